"""Every public API of a base install (no extras), run by test_wheel.py inside a
fresh virtual environment on a pseudo-terminal (where progress bars turn on).

Not a test module: it runs in the other environment.  argv[1] is a scratch folder.
"""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import zarr

import omezarr_fast as ozf
from omezarr_fast import ngff

out = Path(sys.argv[1])
extras = [m for m in ("rich", "tifffile", "h5py", "matplotlib") if importlib.util.find_spec(m)]
assert not extras, f"a base install should not have {extras}"
assert sys.stdout.isatty(), "this script is meant to run on a terminal"

rng = np.random.default_rng(0)
data = rng.integers(0, 4000, size=(2, 24, 80, 96), dtype=np.uint16)
labels = (data[0] > 3000).astype(np.uint32)

img_path = ozf.write_image(data, out / "img.ome.zarr", axes="czyx", scale=[1, 2.0, 0.5, 0.5],
                           units={"z": "micrometer", "y": "micrometer", "x": "micrometer"})
ozf.write_labels(labels[None], img_path, "cells")
img = ozf.open_image(img_path)
assert np.array_equal(img.level(0)[:], data)
assert img.labels == ["cells"] and np.array_equal(img.label("cells").level(0)[:][0], labels)

ozf.enable()
arr = zarr.open_array(img_path / "0", mode="r")
boxes = [(slice(0, 2), slice(3, 19), slice(5, 70), slice(9, 41)),
         (slice(1, 2), slice(0, 24), slice(0, 8), slice(90, 96))]
for got, box in zip(ozf.read_regions(arr, boxes), boxes):
    assert np.array_equal(got, data[box])
assert np.array_equal(ozf.downsample(data[0], (2, 2, 2)), ozf.downsample_levels(data[0], (2, 2, 2), 1)[0])

plate = ozf.write_plate(out / "plate.ome.zarr", {("A", "1"): data[:, :4], ("B", "2"): data[:, 4:8]})
assert ozf.open_plate(plate).wells

old = ozf.write_image(data, out / "old.ome.zarr", axes="czyx", version="0.4")
new = ozf.upgrade_path(old, out / "new.ome.zarr", shards="auto")
assert np.array_equal(ozf.open_image(new).level(0)[:], data)
ozf.rebuild_pyramid(new)
assert ngff.validate(json.loads((new / "zarr.json").read_text())["attributes"]) is not None

cli = [sys.executable, "-m", "omezarr_fast.cli"]
np.save(out / "stack.npy", data[0])
for args in (["info", str(img_path)], ["validate", "--json", str(img_path)],
             ["convert", str(out / "stack.npy"), str(out / "conv.ome.zarr"), "--axes", "zyx"],
             ["pyramid", str(out / "conv.ome.zarr")],
             ["upgrade", str(old), str(out / "new2.ome.zarr")]):
    run = subprocess.run(cli + args, capture_output=True, text=True)
    assert run.returncode == 0, (args, run.stdout, run.stderr)
print("BASE-INSTALL-OK", ozf.__version__)
