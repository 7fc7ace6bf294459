"""The README's examples run as written (in a fresh interpreter, in an empty directory)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import omezarr_fast

# The checkout these tests run from (not the package's location: CI runs them
# against the package installed in .venv, where no README sits next to it).
README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_readme_examples_run_as_written(tmp_path):
    blocks = python_blocks(README)
    assert any("read_regions" in b for b in blocks) and any("write_image" in b for b in blocks)
    # The same omezarr_fast as this run's (the installed one, or src/ with PYTHONPATH=src).
    home = str(Path(omezarr_fast.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": home + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", "\n".join(blocks)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Image(" in out.stdout
