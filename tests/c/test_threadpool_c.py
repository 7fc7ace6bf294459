"""The C thread pool on its own: compiled with the system C compiler and run."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CC = shutil.which("cc") or shutil.which("gcc")


@pytest.mark.skipif(CC is None or not (ROOT / "csrc").is_dir(), reason="needs a C compiler and the source tree")
def test_threadpool_stress(tmp_path):
    exe = tmp_path / "test_threadpool"
    subprocess.run([CC, "-std=gnu11", "-O2", "-Wall", "-Werror", "-pthread", f"-I{ROOT / 'csrc'}",
                    str(ROOT / "tests/c/test_threadpool.c"), str(ROOT / "csrc/threadpool.c"), "-o", str(exe)],
                   check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "ok"
