"""csrc/fileio.c on its own (tests/c/test_fileio.c), compiled with the system C
compiler, on both resolution routes: openat2 and the realpath fallback."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CC = shutil.which("cc") or shutil.which("gcc")


@pytest.mark.skipif(CC is None or not (ROOT / "csrc").is_dir(), reason="needs a C compiler and the source tree")
@pytest.mark.parametrize("route", ["openat2", "realpath"])
def test_fileio_policy_and_failed_fstat(tmp_path, route):
    exe = tmp_path / "test_fileio"
    flags = ["-DOZF_NO_OPENAT2"] if route == "realpath" else []
    subprocess.run([CC, "-std=gnu11", "-O2", "-Wall", "-Werror", "-pthread", *flags, f"-I{ROOT / 'csrc'}",
                    "-Wl,--wrap=fstat", str(ROOT / "tests/c/test_fileio.c"), str(ROOT / "csrc/fileio.c"),
                    str(ROOT / "csrc/status.c"), str(ROOT / "csrc/threadpool.c"), "-o", str(exe)],
                   check=True)
    work = tmp_path / "work"
    work.mkdir()
    out = subprocess.run([str(exe), str(work)], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "ok"
