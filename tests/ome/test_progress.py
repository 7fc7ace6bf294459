"""Progress on a terminal: rich draws a bar when installed; without rich (a base install)
write_image still works and shows a plain line."""
from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import omezarr_fast
from omezarr_fast._util import LineProgress, progress

SRC = str(Path(omezarr_fast.__file__).resolve().parents[1])

WITHOUT_RICH = """
import sys

class NoRich:  # as if rich were not installed
    def find_spec(self, name, path=None, target=None):
        if name == "rich" or name.startswith("rich."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoRich())
import numpy as np
import omezarr_fast

assert sys.stderr.isatty()
omezarr_fast.write_image(np.arange(96 * 80, dtype=np.uint16).reshape(96, 80), sys.argv[1],
                         chunks=(16, 16), shards=(32, 32), levels=3)
assert not any(m == "rich" or m.startswith("rich.") for m in sys.modules)
print(omezarr_fast.open_image(sys.argv[1]).levels[2].shape)
"""


def run_on_a_terminal(code: str, *args) -> tuple[int, str, str]:
    """Runs ``code`` with stderr on a pseudo-terminal; (exit status, stdout, terminal output)."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out = p.stdout.read().decode()
    p.stdout.close()
    return p.wait(timeout=120), out, seen.decode(errors="replace")


def test_write_image_at_a_terminal_without_rich(tmp_path):
    rc, out, term = run_on_a_terminal(WITHOUT_RICH, tmp_path / "a.zarr")
    assert rc == 0, term
    assert out.strip() == "(24, 20)"
    done = re.findall(r"writing pyramid: (\d+)/(\d+)", term)
    assert done and done[-1][0] == done[-1][1]  # the plain line, up to the last block


def test_progress_is_off_unless_asked_or_at_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress(None, 3, "x") is None and progress(False, 3, "x") is None
    bar = progress(True, 3, "x")
    assert bar is not None
    bar.advance()
    bar.close()


def test_line_progress():
    stream = io.StringIO()
    bar = LineProgress(3, "copying", stream)
    bar.advance()
    bar.advance(2)
    bar.close()
    assert stream.getvalue() == "\rcopying: 0/3\rcopying: 1/3\rcopying: 3/3\n"
