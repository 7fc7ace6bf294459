"""validate_path on small hierarchies written with plain JSON, read_attributes, path safety."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.ngff import VERSIONS, image, write_array, write_group, write_json

from omezarr_fast import ngff
from omezarr_fast.ngff import NgffError, check_relative_path, validate_path


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


def _paths(res):
    return [(e.node, e.path) for e in res.errors]


def test_valid_image_with_labels(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    write_group(root / "labels", ngff.labels_attributes(["cells"], version=version), version)
    image(root / "labels" / "cells", version, shape=(1, 16, 32), dtype="uint32", label=True)
    res = validate_path(root)
    assert res, res.message
    assert res.version == version
    assert validate_path(root, strict=True), validate_path(root, strict=True).message


def test_missing_level_array(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    for f in (root / "2").iterdir():
        f.unlink()
    (root / "2").rmdir()
    res = validate_path(root)
    ns = "ome." if version == "0.5" else ""
    assert ("", f"{ns}multiscales[0].datasets[2].path") in _paths(res)
    assert "not found" in res.message


def test_ndim_mismatch(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    write_array(root / "1", [16, 32], "uint16", version, ["y", "x"])
    res = validate_path(root)
    ns = "ome." if version == "0.5" else ""
    assert ("", f"{ns}multiscales[0].datasets[1].path") in _paths(res)
    assert "2 dimensions" in res.message


def test_dimension_names_must_match_axes_in_05(tmp_path):
    root = tmp_path / "img.zarr"
    image(root, "0.5", dims_override=["c", "x", "y"])
    res = validate_path(root)
    assert not res
    assert ("", "ome.multiscales[0].datasets[0].path") in _paths(res)
    assert "dimension_names" in res.message
    image(root, "0.5", dims_override=None)  # back to matching names
    assert validate_path(root)
    # missing dimension_names is an error too
    meta = json.loads((root / "0" / "zarr.json").read_text())
    del meta["dimension_names"]
    write_json(root / "0" / "zarr.json", meta)
    assert ("", "ome.multiscales[0].datasets[0].path") in _paths(validate_path(root))


def test_level_is_a_group_not_array(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    for f in (root / "0").iterdir():
        f.unlink()
    write_group(root / "0", {}, version)
    res = validate_path(root)
    assert "expected an array" in res.message


def test_version_vs_zarr_format(tmp_path):
    root = tmp_path / "img.zarr"
    image(root, "0.5")
    # 0.4 metadata in a zarr v3 group
    meta = json.loads((root / "zarr.json").read_text())
    a4 = ngff.parse_attributes(meta["attributes"]).to_dict("0.4")
    write_json(root / "zarr.json", {**meta, "attributes": a4})
    res = validate_path(root)
    assert not res
    assert "zarr v2" in res.message
    # and 0.5 metadata in a zarr v2 group
    root4 = tmp_path / "img4.zarr"
    image(root4, "0.4")
    a5 = ngff.upgrade_attributes(json.loads((root4 / ".zattrs").read_text()))
    write_json(root4 / ".zattrs", a5)
    res = validate_path(root4)
    assert not res and "zarr v3" in res.message


def test_label_checks(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    write_group(root / "labels", ngff.labels_attributes(["cells", "float", "short"],
                                                        version=version), version)
    image(root / "labels" / "cells", version, shape=(1, 15, 32), dtype="uint32", label=True)
    image(root / "labels" / "float", version, dtype="float32", label=True)
    image(root / "labels" / "short", version, dtype="uint8", label=True, levels=2)
    res = validate_path(root)
    ns = "ome." if version == "0.5" else ""
    errs = _paths(res)
    # size 15 vs 16 on y: a SHOULD of the text no schema sees (a warning, also when strict)
    cells = ("labels/cells", f"{ns}multiscales[0].datasets[0].path")
    assert cells in [(w.node, w.path) for w in res.warnings]
    strict = validate_path(root, strict=True)
    assert cells not in _paths(strict) and cells in [(w.node, w.path) for w in strict.warnings]
    # non-integer dtype
    assert ("labels/float", f"{ns}multiscales[0].datasets[0].path") in errs
    assert "not an integer type" in res.message
    # level count differs from the image
    assert ("labels/short", f"{ns}multiscales[0].datasets") in errs
    assert "2 levels, the image has 3" in res.message
    # size-1 dimensions (one channel) are fine
    assert not any(n == "labels/cells" and "'c'" in str(e) for n, e in zip(
        [e.node for e in res.errors], res.errors, strict=True))


def test_labels_group_rules(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    # a labels group must list its labels
    write_group(root / "labels", {"ome": {"version": "0.5", "other": 1}} if version == "0.5"
                else {"other": 1}, version)
    res = validate_path(root)
    assert not res
    assert any(e.node == "labels" for e in res.errors)
    # intermediate groups must not carry OME metadata
    write_group(root / "labels", ngff.labels_attributes(["seg/cells"], version=version), version)
    image(root / "labels" / "seg" / "cells", version, dtype="uint16", label=True)
    write_group(root / "labels" / "seg", {}, version)
    assert validate_path(root), validate_path(root).message
    write_group(root / "labels" / "seg", ngff.labels_attributes(["x"], version=version), version)
    res = validate_path(root)
    assert ("labels/seg", "") in _paths(res)


def test_label_listed_but_missing(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    write_group(root / "labels", ngff.labels_attributes(["gone"], version=version), version)
    res = validate_path(root)
    ns = "ome." if version == "0.5" else ""
    assert ("labels", f"{ns}labels[0]") in _paths(res)


def test_label_without_image_label_warns(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    write_group(root / "labels", ngff.labels_attributes(["cells"], version=version), version)
    image(root / "labels" / "cells", version, dtype="uint32")
    res = validate_path(root)
    assert res, res.message
    assert any(w.node == "labels/cells" and "image-label" in w.path for w in res.warnings)


def plate(root: Path, version: str, acquisitions=1) -> None:
    acq = [{"id": i, "name": f"a{i}", "maximumfieldcount": 2} for i in range(acquisitions)]
    p = ngff.build_plate(["A", "B"], ["1", "2", "3"],
                         [f"{r}/{c}" for r in "AB" for c in "123"], name="p", field_count=2,
                         acquisitions=acq)
    write_group(root, ngff.plate_attributes(p, version=version), version)
    for w in p.wells:
        write_group(root / w.path, ngff.well_attributes(
            ngff.build_well(["0", "1"], [0, acquisitions - 1]), version=version), version)
        for f in ("0", "1"):
            image(root / w.path / f, version, shape=(1, 8, 8), levels=2)


def test_plate_2x3(tmp_path, version):
    root = tmp_path / "plate.zarr"
    plate(root, version)
    res = validate_path(root)
    assert res, res.message
    assert validate_path(root, strict=True)


def test_plate_missing_well_and_field(tmp_path, version):
    root = tmp_path / "plate.zarr"
    plate(root, version)
    import shutil
    shutil.rmtree(root / "B" / "2")
    shutil.rmtree(root / "A" / "1" / "1")
    res = validate_path(root)
    ns = "ome." if version == "0.5" else ""
    errs = _paths(res)
    assert ("", f"{ns}plate.wells[4].path") in errs
    assert ("A/1", f"{ns}well.images[1].path") in errs


def test_plate_acquisition_references(tmp_path, version):
    root = tmp_path / "plate.zarr"
    plate(root, version, acquisitions=2)
    assert validate_path(root)
    ns = "ome." if version == "0.5" else ""
    # an acquisition id the plate does not have, and a missing one with 2 acquisitions
    write_group(root / "A" / "1", ngff.well_attributes(ngff.build_well(["0", "1"], [7, None]),
                                                       version=version), version)
    res = validate_path(root)
    errs = _paths(res)
    assert ("A/1", f"{ns}well.images[0].acquisition") in errs
    assert ("A/1", f"{ns}well.images[1].acquisition") in errs


def test_plate_well_path_escape_is_not_followed(tmp_path, version):
    root = tmp_path / "plate.zarr"
    plate(root, version)
    attrs = ngff.read_attributes(root)
    ns = attrs["ome"] if version == "0.5" else attrs
    ns["plate"]["wells"][0]["path"] = "../../etc"
    write_group(root, attrs, version)
    res = validate_path(root)
    p = "ome." if version == "0.5" else ""
    assert ("", f"{p}plate.wells[0].path") in _paths(res)


def test_bioformats2raw(tmp_path, version):
    root = tmp_path / "bf.zarr"
    write_group(root, ngff.bioformats2raw_attributes(version=version), version)
    image(root / "0", version)
    image(root / "1", version, dims_override=["c", "y", "x"])
    assert validate_path(root)
    # with OME/series naming the images
    write_group(root / "OME", ngff.series_attributes(["0", "1", "2"], version=version), version)
    res = validate_path(root)
    ns = "ome." if version == "0.5" else ""
    assert ("OME", f"{ns}series[2]") in _paths(res)
    image(root / "2", version)
    assert validate_path(root)
    assert validate_path(root, strict=True), validate_path(root, strict=True).message
    # an image inside that is broken is reported with its node
    write_array(root / "1" / "0", [2, 16], "uint16", version, ["c", "y"])
    res = validate_path(root)
    assert ("1", f"{ns}multiscales[0].datasets[0].path") in _paths(res)


def test_mixed_versions_in_hierarchy(tmp_path):
    root = tmp_path / "img.zarr"
    image(root, "0.5")
    write_group(root / "labels", ngff.labels_attributes(["cells"], version="0.4"), "0.4")
    res = validate_path(root)
    assert not res
    assert any(e.node == "labels" for e in res.errors)


def test_not_a_zarr(tmp_path):
    res = validate_path(tmp_path)
    assert not res
    assert res.message == f"{tmp_path}: no zarr metadata (zarr.json, .zgroup, .zarray or .zattrs)"
    (tmp_path / "zarr.json").write_text("{not json")
    res = validate_path(tmp_path)
    assert not res and "not valid JSON" in res.message


def test_read_attributes(tmp_path, version):
    root = tmp_path / "img.zarr"
    ms = image(root, version)
    attrs = ngff.read_attributes(root)
    assert attrs == ngff.image_attributes(ms, version=version)
    meta_file = root / ("zarr.json" if version == "0.5" else ".zattrs")
    assert ngff.read_attributes(meta_file) == attrs
    model = ngff.read_metadata(root)
    assert model.version == version and model.multiscales[0].paths == ["0", "1", "2"]
    with pytest.raises(FileNotFoundError):
        ngff.read_attributes(tmp_path / "nothing")


# -- path safety -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["/abs", "../x", "a/../b", "a/..", "..", "a\\b", "a//b", "a/",
                                 "", "a\x00b", "C:x", ".", "./a", 3, None])
def test_check_relative_path_rejects(bad):
    with pytest.raises(NgffError) as info:
        check_relative_path(bad, "ome.multiscales[0].datasets[0].path")
    assert info.value.path == "ome.multiscales[0].datasets[0].path"
    assert "ome.multiscales[0].datasets[0].path" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("good", ["0", "s0/image", "A/1", "labels/cells", "a.b", "..a", "a..",
                                  "_x-1"])
def test_check_relative_path_accepts(good):
    assert check_relative_path(good, "f") == good


@pytest.mark.parametrize("field", ["dataset", "label", "well", "image"])
def test_unsafe_paths_rejected_before_reading(tmp_path, field, version):
    root = tmp_path / "x.zarr"
    secret = tmp_path / "secret"
    image(secret, version)
    if field == "dataset":
        ms = image(root, version)
        d = ngff.image_attributes(ms, version=version)
        ns = d["ome"] if version == "0.5" else d
        ns["multiscales"][0]["datasets"][0]["path"] = "../secret/0"
        write_group(root, d, version)
        where = "multiscales[0].datasets[0].path"
    elif field == "label":
        image(root, version)
        write_group(root / "labels", {"ome": {"version": "0.5", "labels": ["../../secret"]}}
                    if version == "0.5" else {"labels": ["../../secret"]}, version)
        where = "labels[0]"
    elif field == "well":
        plate(root, version)
        d = ngff.read_attributes(root)
        ns = d["ome"] if version == "0.5" else d
        ns["plate"]["wells"][0]["path"] = "../secret"
        write_group(root, d, version)
        where = "plate.wells[0].path"
    else:
        plate(root, version)
        d = ngff.read_attributes(root / "A" / "1")
        ns = d["ome"] if version == "0.5" else d
        ns["well"]["images"][0]["path"] = "../../../secret"
        write_group(root / "A" / "1", d, version)
        where = "well.images[0].path"
    res = validate_path(root)
    assert not res
    assert any(e.path.endswith(where) for e in res.errors), res.message
    # nothing under the secret image was reached
    assert not any("secret" in e.node for e in res.errors + res.warnings)
    with pytest.raises(NgffError):
        ngff.read_metadata(root if field != "image" else root / "A" / "1") if field != "label" \
            else ngff.read_metadata(root / "labels")


# -- ome-zarr-models on a hierarchy on disk ------------------------------------------------------

def test_ome_zarr_models_open_our_hierarchy(tmp_path, version):
    pytest.importorskip("ome_zarr_models", reason="ome-zarr-models not installed")
    import zarr
    from ome_zarr_models import open_ome_zarr
    root = tmp_path / "img.zarr"
    image(root, version)
    write_group(root / "labels", ngff.labels_attributes(["cells"], version=version), version)
    image(root / "labels" / "cells", version, shape=(1, 16, 32), dtype="uint32", label=True)
    group = open_ome_zarr(zarr.open_group(str(root), mode="r"), version=version)
    assert type(group).__name__ == "Image"
    meta = group.ome_attributes if version == "0.5" else group.attributes
    assert [d.path for d in meta.multiscales[0].datasets] == ["0", "1", "2"]
    plate_root = tmp_path / "plate.zarr"
    plate(plate_root, version)
    hcs = open_ome_zarr(zarr.open_group(str(plate_root), mode="r"), version=version)
    assert type(hcs).__name__ == "HCS"


def test_omero_channel_count_warning(tmp_path, version):
    root = tmp_path / "img.zarr"
    ms = image(root, version)
    omero = ngff.build_omero([(0, 10, 0, 65535)] * 3)
    write_group(root, ngff.image_attributes(ms, omero, version=version), version)
    res = validate_path(root)
    assert res
    ns = "ome." if version == "0.5" else ""
    assert [w.path for w in res.warnings] == [f"{ns}omero.channels"]
    write_group(root, ngff.image_attributes(ms, ngff.build_omero([(0, 10, 0, 65535)] * 2),
                                            version=version), version)
    assert validate_path(root).warnings == []


def test_result_json(tmp_path):
    res = validate_path(tmp_path)
    doc = json.loads(json.dumps(res.to_json()))
    assert doc["valid"] is False and "no zarr metadata" in doc["message"]
    assert doc["errors"] == [{"node": "", "path": "", "message": doc["message"]}]


def test_04_nested_chunk_layout_should(tmp_path):
    root = tmp_path / "img.zarr"
    image(root, "0.4")
    meta = json.loads((root / "1" / ".zarray").read_text())
    meta["dimension_separator"] = "."
    write_json(root / "1" / ".zarray", meta)
    res = validate_path(root)
    assert res
    assert [(w.node, w.path) for w in res.warnings] == [("", "multiscales[0].datasets[1].path")]
    strict = validate_path(root, strict=True)  # a SHOULD beyond the strict schemas
    assert strict and strict.warnings == res.warnings


def test_symlink_out_of_the_hierarchy_is_not_followed(tmp_path, version):
    outside = tmp_path / "outside"
    image(outside, version)
    root = tmp_path / "img.zarr"
    image(root, version)
    write_group(root / "labels", ngff.labels_attributes(["cells"], version=version), version)
    (root / "labels" / "cells").symlink_to(outside, target_is_directory=True)
    res = validate_path(root)
    assert not res
    assert "outside the validated hierarchy" in res.message
    assert not any(e.node.startswith("labels/cells") for e in res.errors)


def test_validate_path_accepts_the_metadata_file(tmp_path, version):
    root = tmp_path / "img.zarr"
    image(root, version)
    f = root / ("zarr.json" if version == "0.5" else ".zattrs")
    assert validate_path(f) and validate_path(f).version == version


def test_label_group_without_multiscales(tmp_path, version):
    """An image-label document alone is valid (the official label suite); a label image
    group on disk must also have multiscales, whether reached from labels or opened alone."""
    root = tmp_path / "img.zarr"
    image(root, version)
    write_group(root / "labels", ngff.labels_attributes(["cells"], version=version), version)
    il = ngff.OmeAttributes(image_label=ngff.build_image_label({1: (255, 0, 0, 255)}))
    write_group(root / "labels" / "cells", il.to_dict(version), version)
    ns = "ome." if version == "0.5" else ""
    assert ngff.validate(il.to_dict(version))
    res = validate_path(root)
    assert ("labels/cells", f"{ns}multiscales") in _paths(res)
    alone = validate_path(root / "labels" / "cells")
    assert ("", f"{ns}image-label") in _paths(alone)
    assert "must also have 'multiscales'" in alone.message
