"""Labels across conversions: ``convert`` copies an OME-Zarr input's label images and
attaches ``--labels NAME=FILE``; write_labels(image_label=...) and labels of size 1 on c."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import zarr
from helpers.cli import run
from helpers.ome import COLORS, PROPS, levels_of

from omezarr_fast import downsample, ngff, open_image, write_image, write_labels
from omezarr_fast.cli import main


def test_convert_copies_ome_zarr_py_labels(tmp_path, ozp04):
    out = tmp_path / "new.zarr"
    rc, stdout, err = run("convert", ozp04, out, "--levels", "2", "--factors", "z=1",
                          "--no-progress")
    assert rc == 0, err
    assert "labels cells" in stdout
    res = ngff.validate_path(out)
    assert res and res.version == "0.5", res.message
    img = open_image(out)
    assert img.labels == ["cells"]
    lab = img.label("cells")
    il = lab.attributes["ome"]["image-label"]
    assert il["colors"] == COLORS and il["properties"] == PROPS
    old = ngff.read_attributes(ozp04 / "labels" / "cells")["image-label"]
    assert il == {k: v for k, v in old.items() if k != "version"}  # nothing lost or added
    # level 0 copied, the pyramid rebuilt to match the new image (c stays 1)
    src0 = levels_of(ozp04 / "labels" / "cells")[0]
    assert [a.shape for a in lab.levels] == [(1, 8, 64, 48), (1, 8, 32, 24)]
    np.testing.assert_array_equal(lab.levels[0][...], src0)
    np.testing.assert_array_equal(lab.levels[1][...], downsample(src0, (1, 1, 2, 2), "mode"))
    assert lab.multiscale.datasets[1].scale == img.multiscale.datasets[1].scale == \
        [1.0, 2.0, 1.0, 1.0]
    ozm = pytest.importorskip("ome_zarr_models")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = ozm.open_ome_zarr(zarr.open_group(str(out / "labels" / "cells"), mode="r"),
                                  version="0.5")
    assert type(group).__name__ == "ImageLabel"


def test_convert_05_to_04_keeps_labels_and_no_labels(tmp_path, capsys):
    data = np.random.default_rng(1).integers(0, 100, (12, 40, 36), dtype=np.uint16)
    src = write_image(data, tmp_path / "a.zarr", levels=2, progress=False)
    seg = (data > 50).astype(np.uint16)
    write_labels(seg, src, "fg", colors={1: (255, 255, 0, 255)},
                 properties={1: {"name": "foreground"}}, progress=False)
    out = tmp_path / "b.zarr"
    assert main(["convert", str(src), str(out), "--version", "0.4", "--levels", "3",
                 "--no-progress"]) == 0
    lab = open_image(out).label("fg")
    assert lab.version == "0.4"
    assert lab.attributes["image-label"]["colors"] == [{"label-value": 1,
                                                        "rgba": [255, 255, 0, 255]}]
    assert lab.attributes["image-label"]["properties"] == [{"label-value": 1,
                                                            "name": "foreground"}]
    assert len(lab.levels) == 3
    np.testing.assert_array_equal(lab.levels[0][...], seg)
    assert ngff.validate_path(out)
    assert main(["convert", str(src), str(tmp_path / "c.zarr"), "--no-labels",
                 "--no-progress"]) == 0
    assert open_image(tmp_path / "c.zarr").labels == []


def test_labels_option(tmp_path, capsys):
    data = np.random.default_rng(2).integers(0, 100, (2, 30, 20), dtype=np.uint8)
    np.save(tmp_path / "img.npy", data)
    cells = (data[:1] > 60).astype(np.int32)
    np.save(tmp_path / "cells.npy", cells)
    # an OME-Zarr label image as the source: its image-label comes along
    other = write_image(data, tmp_path / "other.zarr", axes="cyx", levels=1, progress=False)
    write_labels(data % 3, other, "parts", colors={2: (1, 2, 3, 4)}, progress=False)
    out = tmp_path / "out.zarr"
    assert main(["convert", str(tmp_path / "img.npy"), str(out), "--axes", "cyx", "--levels", "2",
                 "--labels", f"cells={tmp_path / 'cells.npy'}",
                 "--labels", f"parts={other / 'labels' / 'parts'}", "--no-progress"]) == 0
    assert "labels cells, parts" in capsys.readouterr().out
    img = open_image(out)
    assert img.labels == ["cells", "parts"]
    np.testing.assert_array_equal(img.label("cells").levels[0][...], cells)
    assert img.label("cells").levels[1].shape == (1, 15, 10)
    parts = img.label("parts")
    np.testing.assert_array_equal(parts.levels[0][...], data % 3)
    assert parts.metadata.image_label.colors[0].rgba == (1, 2, 3, 4)
    assert ngff.validate_path(out)


def test_labels_option_errors_write_nothing(tmp_path, capsys):
    np.save(tmp_path / "img.npy", np.zeros((30, 20), np.uint8))
    np.save(tmp_path / "wrong.npy", np.zeros((30, 21), np.uint8))
    np.save(tmp_path / "float.npy", np.zeros((30, 20), np.float32))
    out = tmp_path / "out.zarr"
    cases = [(f"x={tmp_path / 'wrong.npy'}", "does not match"),
             (f"x={tmp_path / 'float.npy'}", "integer dtype"),
             ("x", "expected NAME=FILE"),
             (f"a/b={tmp_path / 'img.npy'}", "single path component"),
             (f"x={tmp_path / 'missing.npy'}", "no such file")]
    for spec, match in cases:
        assert main(["convert", str(tmp_path / "img.npy"), str(out), "--labels", spec,
                     "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert match in err and err.count("\n") == 1, err
        assert not out.exists()
    assert main(["convert", str(tmp_path / "img.npy"), str(out), "--labels",
                 f"x={tmp_path / 'img.npy'}", "--labels", f"x={tmp_path / 'img.npy'}"]) == 2
    assert "given twice" in capsys.readouterr().err


def test_write_labels_image_label_and_size_one_axes(tmp_path):
    data = np.zeros((3, 16, 16), np.uint16)
    img = write_image(data, tmp_path / "i.zarr", axes="cyx", levels=2, progress=False)
    il = {"colors": [{"label-value": 5, "rgba": [9, 9, 9, 9], "note": "kept"}],
          "source": {"image": "../../"}, "custom": 1}
    path = write_labels(np.full((1, 16, 16), 5, np.uint8), img, "l", image_label=il,
                        progress=False)
    got = open_image(path)
    assert got.attributes["ome"]["image-label"] == il
    assert [a.shape for a in got.levels] == [(1, 16, 16), (1, 8, 8)]
    with pytest.raises(ValueError, match="not both"):
        write_labels(np.zeros((1, 16, 16), np.uint8), img, "m", image_label=il, colors={1: (0,) * 4})
    with pytest.raises(ValueError, match="equal to the image's, or 1"):
        write_labels(np.zeros((2, 16, 16), np.uint8), img, "m")


def test_invalid_input_label_stops_before_writing(tmp_path, capsys):
    src = write_image(np.zeros((16, 16), np.uint8), tmp_path / "a.zarr", levels=2, progress=False)
    write_labels(np.zeros((16, 16), np.uint8), src, "bad", progress=False)
    group = zarr.open_group(str(src / "labels" / "bad"), mode="r+")
    attrs = group.attrs.asdict()
    attrs["ome"]["multiscales"][0]["datasets"][1]["path"] = "../../../x"
    group.attrs.put(attrs)
    out = tmp_path / "b.zarr"
    assert main(["convert", str(src), str(out), "--no-progress"]) == 2
    assert "datasets[1].path" in capsys.readouterr().err
    assert not out.exists()
    assert main(["convert", str(src), str(out), "--no-labels", "--no-progress"]) == 0
