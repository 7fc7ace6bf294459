"""The self-contained wheel and the base install, tried as a new user would.

scripts/build_wheel.sh builds a manylinux wheel whose native libraries
(libzstd, blosc, libdeflate, liblz4) live inside it; it is installed into a fresh
virtual environment with only the base dependencies, where pkg-config and the
system -dev packages are out of reach, and used there: the bundled libraries
are the ones loaded, the demo runs, and every public API works without the
extras (rich, tifffile, h5py, matplotlib), on a pseudo-terminal.
"""
import fcntl
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    # One build for all xdist workers: they share the base temp's parent, and two
    # builds in the same source tree would trample each other's build/ folder.
    shared = tmp_path_factory.getbasetemp().parent
    with open(shared / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wheels = sorted((shared / "dist").glob("omezarr_fast-*manylinux*.whl"))
        if not wheels:
            build = subprocess.run(["bash", str(ROOT / "scripts/build_wheel.sh"), str(shared / "dist")],
                                   env={**os.environ, "PYTHON": sys.executable}, capture_output=True, text=True)
            assert build.returncode == 0, build.stderr[-3000:]
            wheels = [Path(build.stdout.split()[-1])]
    wheel = wheels[-1]
    assert re.search(r"manylinux_\d+_\d+_\w+\.whl$", wheel.name), wheel.name
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # No pkg-config and no compiler flags: installing the wheel must need neither.
    env = {**os.environ, "PKG_CONFIG": "false", "PKG_CONFIG_PATH": "/nonexistent", "CC": "false"}
    env.pop("PYTHONPATH", None)
    install = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--only-binary", ":all:",
                              str(wheel)], env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    return venv


def run_in(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    return subprocess.run([str(venv / "bin/python"), *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_bundled_libraries_are_the_ones_loaded(base_venv, tmp_path):
    code = ("import omezarr_fast.native as n, omezarr_fast._native;"
            "maps = open('/proc/self/maps').read();"
            "print(n.zstd_version(), n.zstd_build_version());"
            "libs = ('libzstd', 'libblosc', 'libdeflate', 'liblz4');"
            "print(*sorted({l.split()[-1] for l in maps.splitlines() if any(k in l for k in libs)}))")
    run = run_in(base_venv, "-c", code, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    versions, libs = run.stdout.splitlines()
    loaded, built = versions.split()
    assert loaded == built
    paths = libs.split()
    assert {p.split("/")[-1].split("-")[0] for p in paths} == {"libzstd", "libblosc", "libdeflate", "liblz4"}
    assert all("/site-packages/omezarr_fast.libs/" in p for p in paths), paths
    if (ROOT / ".venv/opt/libzstd").is_dir():  # run.sh fetched the fast release: the wheel carries it
        assert tuple(map(int, loaded.split("."))) >= (1, 5, 7)


def test_demo_runs_from_the_wheel(base_venv, tmp_path):
    run = run_in(base_venv, "-m", "omezarr_fast.demo", "--shape", "40", "96", "112", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all reads verified" in run.stdout, run.stdout


def test_every_api_without_extras_on_a_terminal(base_venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CI")}
    env["TERM"] = "xterm"
    pid, fd = pty.fork()
    if pid == 0:  # child: the script's output goes to the terminal
        os.chdir(tmp_path)
        os.execve(str(base_venv / "bin/python"),
                  [str(base_venv / "bin/python"), str(Path(__file__).with_name("base_install_api.py")), str(tmp_path)],
                  env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text[-4000:]
    assert "BASE-INSTALL-OK" in text
