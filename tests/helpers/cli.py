"""The ``omezarr-fast`` command run in a fresh interpreter, as a user runs it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import omezarr_fast

# The subprocess imports the same omezarr_fast as this test (installed or built in place).
SRC = str(Path(omezarr_fast.__file__).resolve().parents[1])


def run(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-m", "omezarr_fast.cli", *map(str, args)],
                       capture_output=True, text=True, env=env, timeout=60, check=False)
    return p.returncode, p.stdout, p.stderr
