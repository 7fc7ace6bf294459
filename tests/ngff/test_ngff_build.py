"""Building, parsing and upgrading NGFF metadata; interop with ome-zarr-models."""
from __future__ import annotations

import copy
import json

import pytest
from helpers.ngff import VERSIONS, fixture, fixture_names

from omezarr_fast import ngff
from omezarr_fast.ngff import NgffError


def _image(version: str, with_omero: bool = True) -> dict:
    axes = ngff.make_axes("tczyx", units={"t": "second", "z": "micrometer",
                                          "y": "micrometer", "x": "micrometer"})
    ms = ngff.build_multiscale(axes, [2.0, 1.0, 1.0, 0.5, 0.5], [[1, 1, 1, 2, 2], [1, 1, 2, 2, 2]],
                               translation0=[0, 0, 10.0, 0, 0], name="img", method="mean")
    omero = ngff.build_omero([(0, 1000, 0, 65535), (0, 500, 0, 65535)], labels=["DAPI", "GFP"])
    return ngff.image_attributes(ms, omero if with_omero else None, version=version)


def _label(version: str) -> dict:
    axes = ngff.make_axes("yx", units=["micrometer", "micrometer"])
    ms = ngff.build_multiscale(axes, [0.5, 0.5], [[2, 2]], name="cells", method="mode")
    il = ngff.build_image_label({1: (255, 0, 0, 255), 2: (0, 255, 0, 128)},
                                {1: {"class": "nucleus"}, 2: {"class": "cytoplasm", "area": 3}})
    return ngff.label_image_attributes(ms, il, version=version)


def _plate(version: str) -> dict:
    plate = ngff.build_plate(["A", "B"], ["1", "2", "3"], ["A/1", "A/3", "B/2"], name="screen",
                             field_count=2,
                             acquisitions=[{"id": 0, "name": "first", "maximumfieldcount": 2}])
    return ngff.plate_attributes(plate, version=version)


BUILDERS = {
    "image": _image,
    "image_no_omero": lambda v: _image(v, with_omero=False),
    "labels": lambda v: ngff.labels_attributes(["cells", "nested/nuclei"], version=v),
    "label_image": _label,
    "plate": _plate,
    "well": lambda v: ngff.well_attributes(ngff.build_well(["0", "1"], [0, 0]), version=v),
    "bioformats2raw": lambda v: ngff.bioformats2raw_attributes(version=v),
    "series": lambda v: ngff.series_attributes(["0", "1", "2"], version=v),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", BUILDERS)
def test_build_parse_roundtrip(kind, version):
    attrs = BUILDERS[kind](version)
    json.dumps(attrs)  # plain JSON types only
    res = ngff.validate(attrs, strict=kind not in ("labels", "bioformats2raw", "series"))
    assert res, res.message
    assert res.version == version
    assert ngff.detect_version(attrs) == version
    model = ngff.parse_attributes(attrs)
    assert model.version == version
    assert model.to_dict() == attrs
    # through JSON text and back, and across versions
    assert ngff.parse_attributes(json.loads(json.dumps(attrs))).to_dict(version) == attrs
    other = "0.4" if version == "0.5" else "0.5"
    assert ngff.parse_attributes(model.to_dict(other)).to_dict(version) == attrs


def test_layout_per_version():
    a5, a4 = _image("0.5"), _image("0.4")
    assert set(a5) == {"ome"} and a5["ome"]["version"] == "0.5"
    assert "version" not in a5["ome"]["multiscales"][0]
    assert a4["multiscales"][0]["version"] == "0.4" and "ome" not in a4
    assert _plate("0.4")["plate"]["version"] == "0.4"
    assert _plate("0.5")["ome"]["plate"]["version"] == "0.5"
    assert _label("0.4")["image-label"]["version"] == "0.4"
    assert ngff.bioformats2raw_attributes(version="0.5") == {
        "ome": {"version": "0.5", "bioformats2raw.layout": 3}}
    assert ngff.bioformats2raw_attributes(version="0.4") == {"bioformats2raw.layout": 3}
    assert ngff.labels_attributes(["a"], version="0.4") == {"labels": ["a"]}


def test_multiscale_content():
    ms = ngff.parse_attributes(_image("0.5")).multiscales[0]
    assert ms.axis_names == ["t", "c", "z", "y", "x"]
    assert [a.type for a in ms.axes] == ["time", "channel", "space", "space", "space"]
    assert ms.axes[0].unit == "second" and ms.axes[1].unit is None
    assert ms.paths == ["0", "1", "2"]
    assert ms.datasets[2].scale == [2.0, 1.0, 2.0, 2.0, 2.0]
    assert ms.datasets[2].translation == [0.0, 0.0, 10.5, 0.75, 0.75]
    assert ms.type == "mean"
    assert ms.metadata["method"] == "omezarr_fast.downsample.mean"


def test_pyramid_transforms_design_rule():
    # DESIGN.md: scale_N = scale_0 x cumulative factor; translation_N = t_0 + (s_N - s_0) / 2.
    # The NGFF 0.6 example: level-0 pixel 0.5 -> L1 scale 1.0 translation 0.25,
    # L2 scale 2.0 translation 0.75.
    levels = ngff.pyramid_transforms([0.5, 0.5], [[2, 2], [2, 2]])
    assert [t.scale for t in levels] == [[0.5, 0.5], [1.0, 1.0], [2.0, 2.0]]
    assert [t.translation for t in levels] == [[0, 0], [0.25, 0.25], [0.75, 0.75]]
    levels = ngff.pyramid_transforms([1, 3.0, 0.2], [[1, 1, 2], [1, 3, 2]], [5, -1, 0])
    assert levels[2].scale == pytest.approx([1, 9.0, 0.8])
    assert levels[2].translation == pytest.approx([5, -1 + 3.0, 0.3])


@pytest.mark.parametrize("bad", [
    ({"scale0": [0.0, 1.0], "factors": []}, "scale0[0]"),
    ({"scale0": [1.0, 1.0], "factors": [[2]]}, "factors[0]"),
    ({"scale0": [1.0, 1.0], "factors": [[2, 0.5]]}, "factors[0][1]"),
    ({"scale0": [1.0, 1.0], "factors": [], "translation0": [1.0]}, "translation0"),
])
def test_pyramid_transforms_bad_input(bad):
    kwargs, path = bad
    with pytest.raises(NgffError) as info:
        ngff.pyramid_transforms(**kwargs)
    assert info.value.path == path


def test_builder_errors_name_the_argument():
    with pytest.raises(NgffError, match="wells\\[1\\]"):
        ngff.build_plate(["A"], ["1"], ["A/1", "B/1"])
    with pytest.raises(NgffError, match="paths\\[0\\]"):
        ngff.build_multiscale(ngff.make_axes("yx"), [1, 1], [], paths=["../0"])
    with pytest.raises(NgffError, match="scale0"):
        ngff.build_multiscale(ngff.make_axes("zyx"), [1, 1], [])
    with pytest.raises(NgffError, match="units"):
        ngff.make_axes("yx", units={"q": "meter"})
    with pytest.raises(NgffError, match="labels"):
        ngff.build_omero([(0, 1, 0, 1)], labels=["a", "b"])
    with pytest.raises(NgffError, match="version"):
        _image("0.3")
    with pytest.raises(NgffError, match=r"labels\[1\]"):
        ngff.labels_attributes(["a", "a"])


def test_make_axes():
    axes = ngff.make_axes(["c", "angle", "y", "x"], types={"angle": "angle"})
    assert [a.to_dict() for a in axes] == [
        {"name": "c", "type": "channel"}, {"name": "angle", "type": "angle"},
        {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    assert ngff.make_axes("yx", units=["nanometer", None])[1].unit is None


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", fixture_names())
def test_fixture_roundtrip(name, version):
    attrs = fixture(version, name)
    assert ngff.parse_attributes(attrs).to_dict() == attrs


def test_parse_errors_name_the_path():
    bad = fixture("0.5", "multiscales_transformations")
    ct = bad["ome"]["multiscales"][0]["datasets"][1]["coordinateTransformations"]
    ct.reverse()
    with pytest.raises(NgffError) as info:
        ngff.parse_attributes(bad)
    assert info.value.path == "ome.multiscales[0].datasets[1].coordinateTransformations[0].type"
    bad = fixture("0.4", "multiscales_example")
    bad["multiscales"][0]["datasets"][0]["path"] = "/abs"
    with pytest.raises(NgffError) as info:
        ngff.parse_attributes(bad)
    assert info.value.path == "multiscales[0].datasets[0].path"
    with pytest.raises(NgffError, match="no OME-Zarr metadata"):
        ngff.parse_attributes({"other": 1})


def test_unknown_keys_survive():
    attrs = fixture("0.5", "multiscales_example")
    attrs["ome"]["multiscales"][0]["custom"] = {"a": 1}
    attrs["ome"]["vendor"] = 1
    attrs["not_ome"] = [1]
    assert ngff.parse_attributes(attrs).to_dict() == attrs
    a4 = fixture("0.4", "image_omero")
    a4["something"] = True
    assert ngff.parse_attributes(a4).to_dict() == a4


# -- upgrade 0.4 -> 0.5 ----------------------------------------------------------------------

@pytest.mark.parametrize("name", fixture_names())
def test_upgrade_matches_05_fixture(name):
    a4 = fixture("0.4", name)
    before = copy.deepcopy(a4)
    a5 = ngff.upgrade_attributes(a4)
    assert a4 == before  # input untouched
    expected = fixture("0.5", name)
    if name == "image_omero":
        expected["ome"]["omero"]["version"] = "0.4"  # omero is copied as it is
    if name.startswith("plate"):
        expected["ome"]["plate"]["version"] = "0.5"
    assert a5 == expected
    assert ngff.validate(a5)


def test_upgrade_keeps_foreign_keys_and_rejects_others():
    a4 = {**fixture("0.4", "plate_2wells"), "vendor": {"x": 1}}
    a5 = ngff.upgrade_attributes(a4)
    assert a5["vendor"] == {"x": 1} and "plate" not in a5
    assert ngff.upgrade_attributes(a5) == a5
    with pytest.raises(NgffError, match="0.4"):
        ngff.upgrade_attributes({"multiscales": [{"version": "0.3", "axes": ["y", "x"]}]})
    with pytest.raises(NgffError):
        ngff.upgrade_attributes({"foo": 1})


# -- ome-zarr-models (pydantic) ---------------------------------------------------------------

def _models():
    return pytest.importorskip("ome_zarr_models", reason="ome-zarr-models not installed")


@pytest.mark.parametrize("version", VERSIONS)
def test_ome_zarr_models_accept_our_metadata(version):
    _models()
    import importlib
    mod = importlib.import_module(f"ome_zarr_models.v0{version[-1]}")
    sub = {name: importlib.import_module(f"{mod.__name__}.{name}")
           for name in ("image", "image_label", "labels", "hcs", "well", "bioformats2raw")}
    cases = [
        (sub["image"].ImageAttrs, BUILDERS["image"](version)),
        (sub["image_label"].ImageLabelAttrs, _label(version)),
        (sub["labels"].LabelsAttrs, BUILDERS["labels"](version)),
        (sub["hcs"].HCSAttrs, _plate(version)),
        (sub["well"].WellAttrs, BUILDERS["well"](version)),
        (sub["bioformats2raw"].BioFormats2RawAttrs, BUILDERS["bioformats2raw"](version)),
    ]
    for model, attrs in cases:
        payload = attrs["ome"] if version == "0.5" else attrs
        parsed = model.model_validate(payload)
        # and what the models serialise parses back into the same metadata in ours
        dumped = parsed.model_dump(exclude_none=True, by_alias=True, mode="json")
        again = {"ome": dumped} if version == "0.5" else dumped
        assert ngff.validate(again), (model, ngff.validate(again).message)
        assert ngff.parse_attributes(again).to_dict(version) == ngff.parse_attributes(
            attrs).to_dict(version)


def test_package_docstring_example():
    import doctest
    result = doctest.testmod(ngff, verbose=False)
    assert result.attempted > 0 and result.failed == 0
