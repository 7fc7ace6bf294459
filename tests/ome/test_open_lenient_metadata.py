"""open_image reads every metadata that validate() accepts (regressions found by fuzzing)."""
from __future__ import annotations

import json

import numpy as np

from omezarr_fast.ome.image import open_image, write_image


def _edit_attrs(root, edit):
    meta = json.loads((root / "zarr.json").read_text())
    edit(meta["attributes"]["ome"])
    (root / "zarr.json").write_text(json.dumps(meta))


def test_open_05_image_whose_omero_channel_has_no_window(tmp_path):
    root = tmp_path / "img.zarr"
    data = np.arange(2 * 16 * 16, dtype=np.uint16).reshape(2, 16, 16)
    write_image(data, root, axes="cyx", channel_names=["a", "b"])

    def drop(ome):
        for ch in ome["omero"]["channels"]:
            ch.pop("window")
        ome["multiscales"][0]["metadata"] = False
    _edit_attrs(root, drop)
    img = open_image(root)
    assert [c.window for c in img.metadata.omero.channels] == [None, None]
    assert [c.label for c in img.metadata.omero.channels] == ["a", "b"]
    np.testing.assert_array_equal(img.level(0)[:], data)
