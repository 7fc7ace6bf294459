"""The quick-start demo end to end on a small volume: it verifies every read
itself and exits non-zero on a difference."""
import subprocess
import sys


def test_demo_runs_and_verifies(tmp_path):
    out = subprocess.run([sys.executable, "-m", "omezarr_fast.demo", "--shape", "40", "96", "112",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "all reads verified" in out.stdout
    assert "omezarr_fast.read_regions call" in out.stdout
    assert "OME-Zarr validation of our image: valid" in out.stdout
    assert (tmp_path / "omezarr_fast.ome.zarr" / "0" / "zarr.json").exists()
