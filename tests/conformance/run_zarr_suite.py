"""Run zarr-python's own test suite with omezarr_fast.CodecPipeline switched on.

    python tests/conformance/run_zarr_suite.py [--cache DIR] [-n 2] [pytest args / test paths]

Downloads the sdist of the installed zarr version (it ships tests/; the wheel
does not) into a cache directory, unpacks it, adds a CodecPipelineTests
subclass for our pipeline, and runs its tests/ with
ZARR_CODEC_PIPELINE__PATH=omezarr_fast.CodecPipeline (zarr's autouse config
reset re-reads the environment, so the setting holds in every test).
The package is not installed: a stub dist-info on PYTHONPATH declares the
same ``zarr.codec_pipeline`` entry point as pyproject.toml, so every process
zarr starts (spawn/forkserver pools import test modules that create arrays
before anything imports omezarr_fast) finds the pipeline, as after a real
``pip install``.

Failures are compared with allowed_failures.txt (one test id per line,
followed by "  # reason").  Exit status 0 when every failure is allowed.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import zarr

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ALLOWED = HERE / "allowed_failures.txt"

OUR_SUITE = '''
from tests.test_codec_pipeline_suite import CodecPipelineTests


class TestOmezarrFastPipeline(CodecPipelineTests):
    pipeline_path = "omezarr_fast.CodecPipeline"
'''


def fetch_sdist(cache: Path) -> Path:
    version = zarr.__version__
    root = cache / f"zarr-{version}"
    if (root / "tests").is_dir():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"zarr-{version}.tar.gz"
    if not sdist.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                        "-d", str(cache), f"zarr=={version}"], check=True)
    with tarfile.open(sdist) as tf:
        tf.extractall(cache, filter="data")
    return root


def allowed() -> dict[str, str]:
    out = {}
    for line in ALLOWED.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test, _, reason = line.partition("  # ")
        out[test.strip()] = reason.strip()
    return out


def installed() -> bool:
    """True when omezarr_fast is imported from an installation, not from src/."""
    spec = importlib.util.find_spec("omezarr_fast")
    return spec is not None and spec.origin is not None and not Path(spec.origin).is_relative_to(REPO / "src")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "omezarr_fast" / "zarr-sdist")
    ap.add_argument("-n", default="2", help="pytest-xdist workers")
    ap.add_argument("pytest_args", nargs="*", help="test paths (relative to the sdist) or pytest options")
    args, extra = ap.parse_known_args()

    root = fetch_sdist(args.cache)
    (root / "tests" / "test_omezarr_fast_pipeline.py").write_text(OUR_SUITE)
    paths = [str(root)]
    if not installed():
        # Running from the source tree: a stub dist-info declares our entry point.
        ep = args.cache / "entrypoints"
        info = ep / "omezarr_fast_conformance-0.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: omezarr_fast_conformance\nVersion: 0\n")
        (info / "entry_points.txt").write_text(
            "[zarr.codec_pipeline]\nomezarr_fast.codec_pipeline = omezarr_fast:CodecPipeline\n")
        paths = [str(REPO / "src"), str(ep), *paths]
    env = dict(os.environ)
    env["ZARR_CODEC_PIPELINE__PATH"] = "omezarr_fast.CodecPipeline"
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")])
    report = root / "omezarr_fast_report.txt"
    cmd = [sys.executable, "-m", "pytest", "-n", args.n, "-q", "-rfE",
           "-p", "no:cacheprovider", *(args.pytest_args or ["tests"]), *extra]
    print("+", " ".join(cmd), f"(in {root})", flush=True)
    t0 = time.monotonic()
    with open(report, "w") as fh:
        proc = subprocess.run(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT)
    elapsed = time.monotonic() - t0
    text = report.read_text()
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+)", text, re.M)))
    summary = text.strip().splitlines()[-1] if text.strip() else "(no output)"
    ok = allowed()
    unexpected = [t for t in failed if t not in ok]
    print(f"{summary}\nran in {elapsed:.0f} s; full log: {report}")
    for t in failed:
        print(("allowed   " if t in ok else "UNEXPECTED"), t, ("# " + ok[t]) if t in ok else "")
    if proc.returncode not in (0, 1):
        print(f"pytest exited with {proc.returncode}")
        return proc.returncode
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
