"""Every validation rule with a failing case (asserting the JSON path) and a passing case,
for 0.4 and 0.5, cross-checked against the official JSON schemas where they apply."""
from __future__ import annotations

import copy

import pytest
from helpers.ngff import (
    VERSIONS,
    fixture,
    fixture_names,
    full_path,
    namespace,
    schema_verdict,
    with_ns,
)

from omezarr_fast.ngff import NgffError, validate

MS = "multiscales[0]"
EX = "multiscales_example"          # 5D tczyx, scale only, global scale
TR = "multiscales_transformations"  # 2D yx, scale + translation


def _ms(ns):
    return ns["multiscales"][0]


def _ct(ns, level):
    return _ms(ns)["datasets"][level]["coordinateTransformations"]


def _swap(lst, i, j):
    lst[i], lst[j] = lst[j], lst[i]


def _set_axis(i, **kw):
    def f(ns):
        _ms(ns)["axes"][i].update(kw)
    return f


def _add_axis(ns):
    # a sixth axis with a matching sixth scale value on every level
    _ms(ns)["axes"].insert(0, {"name": "w", "type": "space"})
    for d in _ms(ns)["datasets"]:
        d["coordinateTransformations"][0]["scale"].insert(0, 1.0)
    _ms(ns)["coordinateTransformations"][0]["scale"].insert(0, 1.0)


def _drop_axis(ns):
    _ms(ns)["axes"].pop(0)
    for d in _ms(ns)["datasets"]:
        for t in d["coordinateTransformations"]:
            t[t["type"]].pop(0)
    for t in _ms(ns)["coordinateTransformations"]:
        t[t["type"]].pop(0)


def _add_untyped_axis(ns):
    _ms(ns)["axes"].insert(0, {"name": "angle"})
    for d in _ms(ns)["datasets"] + [_ms(ns)]:
        for t in d.get("coordinateTransformations", []):
            t[t["type"]].insert(0, 1.0)


def _space_to_end_channel(ns):
    axes = _ms(ns)["axes"]
    axes.append(axes.pop(1))  # t z y x c
    for d in _ms(ns)["datasets"]:
        s = d["coordinateTransformations"][0]["scale"]
        s.append(s.pop(1))
    s = _ms(ns)["coordinateTransformations"][0]["scale"]
    s.append(s.pop(1))


# (id, fixture, mutation, error path relative to the OME namespace, schema also rejects it)
ERROR_CASES = [
    # axes
    ("too_few_axes", TR, _drop_axis, f"{MS}.axes", True),
    ("too_many_axes", EX, _add_axis, f"{MS}.axes", True),
    ("duplicate_axis_name", TR, _set_axis(1, name="y"), f"{MS}.axes[1].name", True),
    ("one_space_axis", TR, _set_axis(0, type="channel", unit=None), f"{MS}.axes", True),
    ("space_before_channel", EX, _space_to_end_channel, f"{MS}.axes[4]", False),
    ("two_time_axes", EX, _set_axis(1, type="time"), f"{MS}.axes", False),
    ("two_channel_axes", EX, _set_axis(0, type="channel", unit=None), f"{MS}.axes", False),
    ("channel_before_time", EX, lambda ns: _swap(_ms(ns)["axes"], 0, 1), f"{MS}.axes[1]", False),
    ("axis_type_not_string", TR, _set_axis(0, type=1), f"{MS}.axes[0].type", True),
    ("axis_unit_not_string", TR, _set_axis(0, unit=5), f"{MS}.axes[0].unit", None),
    ("axis_without_name", TR, lambda ns: _ms(ns)["axes"][0].pop("name"), f"{MS}.axes[0].name",
     True),
    ("axes_missing", TR, lambda ns: _ms(ns).pop("axes"), f"{MS}.axes", True),
    # coordinateTransformations of the levels
    ("missing_scale", TR, lambda ns: _ct(ns, 0).pop(0),
     f"{MS}.datasets[0].coordinateTransformations", True),
    ("duplicate_scale", TR, lambda ns: _ct(ns, 0).insert(0, copy.deepcopy(_ct(ns, 0)[0])),
     f"{MS}.datasets[0].coordinateTransformations", True),
    ("translation_before_scale", TR, lambda ns: _swap(_ct(ns, 1), 0, 1),
     f"{MS}.datasets[1].coordinateTransformations[0]", False),
    ("two_translations", TR, lambda ns: _ct(ns, 0).append(copy.deepcopy(_ct(ns, 0)[1])),
     f"{MS}.datasets[0].coordinateTransformations[2]", False),
    ("scale_length", TR, lambda ns: _ct(ns, 1)[0]["scale"].append(1.0),
     f"{MS}.datasets[1].coordinateTransformations[0].scale", False),
    ("translation_length", TR, lambda ns: _ct(ns, 1)[1]["translation"].append(1.0),
     f"{MS}.datasets[1].coordinateTransformations[1].translation", False),
    ("scale_not_numbers", TR, lambda ns: _ct(ns, 0)[0].update(scale=["a", 1]),
     f"{MS}.datasets[0].coordinateTransformations[0].scale", True),
    ("scale_bool", TR, lambda ns: _ct(ns, 0)[0].update(scale=[True, 1]),
     f"{MS}.datasets[0].coordinateTransformations[0].scale", True),
    ("scale_by_path", TR, lambda ns: _ct(ns, 0).__setitem__(0, {"type": "scale", "path": "s"}),
     f"{MS}.datasets[0].coordinateTransformations[0].scale", True),
    ("identity_transform", TR, lambda ns: _ct(ns, 0).insert(0, {"type": "identity"}),
     f"{MS}.datasets[0].coordinateTransformations[0].type", True),
    ("empty_transformations", TR, lambda ns: _ct(ns, 0).clear(),
     f"{MS}.datasets[0].coordinateTransformations", True),
    ("missing_transformations", TR,
     lambda ns: _ms(ns)["datasets"][0].pop("coordinateTransformations"),
     f"{MS}.datasets[0].coordinateTransformations", True),
    ("levels_not_ordered", EX, lambda ns: _swap(_ms(ns)["datasets"], 0, 1),
     f"{MS}.datasets[1].coordinateTransformations[0].scale", False),
    ("global_transform_without_scale", TR, lambda ns: _ms(ns)["coordinateTransformations"].pop(0),
     f"{MS}.coordinateTransformations", True),
    # datasets
    ("duplicate_dataset_path", EX, lambda ns: _ms(ns)["datasets"][1].update(path="0"),
     f"{MS}.datasets[1].path", False),
    ("unsafe_dataset_path", EX, lambda ns: _ms(ns)["datasets"][1].update(path="../x"),
     f"{MS}.datasets[1].path", False),
    ("absolute_dataset_path", EX, lambda ns: _ms(ns)["datasets"][0].update(path="/etc"),
     f"{MS}.datasets[0].path", False),
    ("missing_dataset_path", EX, lambda ns: _ms(ns)["datasets"][0].pop("path"),
     f"{MS}.datasets[0].path", True),
    ("no_datasets", EX, lambda ns: _ms(ns)["datasets"].clear(), f"{MS}.datasets", True),
    ("missing_datasets", EX, lambda ns: _ms(ns).pop("datasets"), f"{MS}.datasets", True),
    ("no_multiscales", EX, lambda ns: ns["multiscales"].clear(), "multiscales", True),
    ("duplicate_multiscales", EX, lambda ns: ns["multiscales"].append(copy.deepcopy(_ms(ns))),
     "multiscales[1]", True),
    ("name_not_string", EX, lambda ns: _ms(ns).update(name=3), f"{MS}.name", True),
    # omero
    ("omero_color_not_string", "image_omero",
     lambda ns: ns["omero"]["channels"][0].update(color=255), "omero.channels[0].color", True),
    ("omero_window_incomplete", "image_omero",
     lambda ns: ns["omero"]["channels"][0]["window"].pop("start"),
     "omero.channels[0].window.start", True),

    ("omero_no_channels", "image_omero", lambda ns: ns["omero"].pop("channels"),
     "omero.channels", True),
    ("omero_active_not_bool", "image_omero",
     lambda ns: ns["omero"]["channels"][0].update(active="yes"), "omero.channels[0].active",
     True),
    # labels group
    ("labels_unsafe_path", "labels_group", lambda ns: ns["labels"].append("../../etc"),
     "labels[2]", None),
    ("labels_duplicate", "labels_group", lambda ns: ns["labels"].append("cells"), "labels[2]",
     None),
    ("labels_not_list", "labels_group", lambda ns: ns.update(labels="cells"), "labels", None),
    # image-label
    ("label_value_missing", "label_colors_properties",
     lambda ns: ns["image-label"]["colors"][0].pop("label-value"),
     "image-label.colors[0].label-value", True),
    ("label_rgba_range", "label_colors_properties",
     lambda ns: ns["image-label"]["colors"][0].update(rgba=[0, 0, 0, 256]),
     "image-label.colors[0].rgba", True),
    ("label_rgba_length", "label_colors_properties",
     lambda ns: ns["image-label"]["colors"][0].update(rgba=[0, 0, 0]),
     "image-label.colors[0].rgba", True),
    ("label_value_duplicate", "label_colors_properties",
     lambda ns: ns["image-label"]["colors"][1].update({"label-value": 1}),
     "image-label.colors[1].label-value", False),
    ("label_colors_empty", "label_colors_properties",
     lambda ns: ns["image-label"]["colors"].clear(), "image-label.colors", True),
    ("label_property_value_float", "label_colors_properties",
     lambda ns: ns["image-label"]["properties"][0].update({"label-value": 1.5}),
     "image-label.properties[0].label-value", True),
    ("label_source_not_object", "label_colors_properties",
     lambda ns: ns["image-label"].update(source="../../"), "image-label.source", True),
    # plate
    ("plate_row_not_alnum", "plate_2wells",
     lambda ns: ns["plate"]["rows"][0].update(name="A-1"), "plate.rows[0].name", True),
    ("plate_duplicate_row", "plate_2wells",
     lambda ns: ns["plate"]["rows"].append({"name": "A"}), "plate.rows[2].name", True),
    ("plate_duplicate_column", "plate_2wells",
     lambda ns: ns["plate"]["columns"].append({"name": "1"}), "plate.columns[3].name", True),
    ("plate_well_path_mismatch", "plate_2wells",
     lambda ns: ns["plate"]["wells"][1].update(rowIndex=0), "plate.wells[1].path", False),
    ("plate_well_column_before_row", "plate_2wells",
     lambda ns: ns["plate"]["wells"][0].update(path="2/A"), "plate.wells[0].path", False),
    ("plate_well_row_out_of_range", "plate_2wells",
     lambda ns: ns["plate"]["wells"][1].update(rowIndex=2), "plate.wells[1].rowIndex", False),
    ("plate_well_negative_index", "plate_2wells",
     lambda ns: ns["plate"]["wells"][1].update(columnIndex=-1), "plate.wells[1].columnIndex",
     True),
    ("plate_well_extra_dir", "plate_2wells",
     lambda ns: ns["plate"]["wells"][0].update(path="A/2/0"), "plate.wells[0].path", True),
    ("plate_well_duplicate", "plate_2wells",
     lambda ns: ns["plate"]["wells"].append(dict(ns["plate"]["wells"][0])),
     "plate.wells[2]", True),
    ("plate_missing_wells", "plate_2wells", lambda ns: ns["plate"].pop("wells"),
     "plate.wells", True),
    ("plate_missing_rows", "plate_2wells", lambda ns: ns["plate"].pop("rows"), "plate.rows",
     True),
    ("plate_field_count_zero", "plate_2wells", lambda ns: ns["plate"].update(field_count=0),
     "plate.field_count", True),
    ("plate_acquisition_without_id", "plate_2wells",
     lambda ns: ns["plate"]["acquisitions"][0].pop("id"), "plate.acquisitions[0].id", True),
    ("plate_acquisition_duplicate_id", "plate_2wells",
     lambda ns: ns["plate"]["acquisitions"][1].update(id=1), "plate.acquisitions[1].id", False),
    ("plate_acquisition_negative_time", "plate_2wells",
     lambda ns: ns["plate"]["acquisitions"][1].update(starttime=-1),
     "plate.acquisitions[1].starttime", True),
    # well
    ("well_image_path_not_alnum", "well_2fields",
     lambda ns: ns["well"]["images"][0].update(path="a/b"), "well.images[0].path", True),
    ("well_image_path_duplicate", "well_2fields",
     lambda ns: ns["well"]["images"][1].update(path="0"), "well.images[1].path", False),
    ("well_no_images", "well_2fields", lambda ns: ns["well"]["images"].clear(), "well.images",
     True),
    ("well_acquisition_not_int", "well_2fields",
     lambda ns: ns["well"]["images"][0].update(acquisition="1"),
     "well.images[0].acquisition", True),
    # bioformats2raw
    ("bf2raw_layout_not_3", "bf2raw_image", lambda ns: ns.update({"bioformats2raw.layout": 2}),
     '["bioformats2raw.layout"]', True),
    ("series_not_strings", "ome_series", lambda ns: ns["series"].append(1), "series[2]", None),
    ("series_unsafe", "ome_series", lambda ns: ns["series"].append("../a"), "series[2]", None),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_rule_fails_with_json_path(case, version):
    _, name, mutate, rel, _schema = case
    attrs = with_ns(version, name, mutate)
    res = validate(attrs)
    assert not res
    expected = full_path(version, rel)
    assert expected in [e.path for e in res.errors], res.message


SCHEMA_CASES = [c for c in ERROR_CASES if c[4] is not None]  # None: no schema covers the case


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", SCHEMA_CASES, ids=[c[0] for c in SCHEMA_CASES])
def test_rule_agrees_with_official_schema(case, version):
    """Where the official schema can see the problem, it rejects the same documents;
    where it cannot (semantic rules), the schema still accepts them."""
    _, name, mutate, _rel, schema_rejects = case
    verdict = schema_verdict(with_ns(version, name, mutate), version)
    if verdict is None:
        pytest.skip("official schemas not installed (ngff-zarr ships them)")
    assert verdict is (not schema_rejects)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", fixture_names())
def test_fixtures_pass(name, version):
    attrs = fixture(version, name)
    res = validate(attrs)
    assert res, res.message
    assert res.version == version
    assert validate(attrs, strict=True), validate(attrs, strict=True).message
    verdict = schema_verdict(attrs, version, strict=True)
    assert verdict in (True, None)


PASSING_VARIANTS = [
    ("custom_type_axis", EX, _set_axis(1, type="custom")),
    # the official schema counts untyped axes as space axes in its 2..3 'contains' check
    # (a schema quirk: the spec text allows one untyped axis next to three space axes)
    ("untyped_axis", EX, lambda ns: _ms(ns)["axes"][1].pop("type"), False),
    ("no_time_axis", TR, lambda ns: None),
    ("scale_only", EX, lambda ns: None),
    ("int_scale", TR, lambda ns: _ct(ns, 1)[0].update(scale=[1, 1])),
    ("equal_levels", EX, lambda ns: _ct(ns, 1)[0].update(scale=[1.0, 1.0, 0.5, 0.5, 0.5])),
    ("nested_dataset_path", EX, lambda ns: _ms(ns)["datasets"][0].update(path="s0/image")),
    ("row_and_column_alnum", "plate_2wells",
     lambda ns: ns["plate"]["rows"][0].update(name="A1")
     or [w.update(path="A1/" + w["path"].split("/")[1]) for w in ns["plate"]["wells"]
         if w["rowIndex"] == 0]),
    ("label_without_properties", "label_colors_properties",
     lambda ns: ns["image-label"].pop("properties")),
    ("bf2raw_with_plate", "plate_2wells", lambda ns: ns.update({"bioformats2raw.layout": 3})),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", PASSING_VARIANTS, ids=[c[0] for c in PASSING_VARIANTS])
def test_valid_variants(case, version):
    name, mutate = case[1], case[2]
    schema_ok = case[3] if len(case) > 3 else True
    attrs = with_ns(version, name, mutate)
    res = validate(attrs)
    assert res, res.message
    assert res.errors == []
    assert schema_verdict(attrs, version) in (schema_ok, None)


# SHOULDs: a warning by default. In strict mode an error where the official strict schemas
# require the field (last column True), otherwise still a warning (same JSON path).
SHOULD_CASES = [
    ("missing_name", EX, lambda ns: _ms(ns).pop("name"), f"{MS}.name", True),
    ("missing_type", EX, lambda ns: _ms(ns).pop("type"), f"{MS}.type", True),
    ("missing_metadata", EX, lambda ns: _ms(ns).pop("metadata"), f"{MS}.metadata", True),
    ("unit_not_udunits", TR, _set_axis(0, unit="micron"), f"{MS}.axes[0].unit", False),
    ("time_unit_not_udunits", EX, _set_axis(0, unit="micrometer"), f"{MS}.axes[0].unit", False),
    ("space_axes_not_zyx", EX,
     lambda ns: [_ms(ns)["axes"][2].update(name="x"), _ms(ns)["axes"][4].update(name="z")],
     f"{MS}.axes", False),
    ("omero_color_not_hex", "image_omero",
     lambda ns: ns["omero"]["channels"][0].update(color="blue"), "omero.channels[0].color",
     False),
    ("label_colors_missing", "label_colors_properties",
     lambda ns: ns["image-label"].pop("colors"), "image-label.colors", True),
    # on a 2D image: with three space axes the schema would count the untyped axis as a
    # fourth space axis (see untyped_axis above)
    ("axis_type_missing", TR, _add_untyped_axis, f"{MS}.axes[0].type", False),
    ("space_unit_missing", TR, lambda ns: _ms(ns)["axes"][0].pop("unit"),
     f"{MS}.axes[0].unit", False),
    ("rows_case_collision", "plate_2wells",
     lambda ns: ns["plate"]["rows"].append({"name": "a"}), "plate.rows[2].name", False),
    ("plate_name_missing", "plate_2wells", lambda ns: ns["plate"].pop("name"), "plate.name",
     True),
    ("plate_field_count_missing", "plate_2wells", lambda ns: ns["plate"].pop("field_count"),
     "plate.field_count", False),
    ("acquisition_name_missing", "plate_2wells",
     lambda ns: ns["plate"]["acquisitions"][0].pop("name"), "plate.acquisitions[0].name", True),
    ("acquisition_maxfields_missing", "plate_2wells",
     lambda ns: ns["plate"]["acquisitions"][0].pop("maximumfieldcount"),
     "plate.acquisitions[0].maximumfieldcount", True),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", SHOULD_CASES, ids=[c[0] for c in SHOULD_CASES])
def test_should_rules(case, version):
    _, name, mutate, rel, strict_schema_rejects = case
    attrs = with_ns(version, name, mutate)
    path = full_path(version, rel)
    lax = validate(attrs)
    assert lax, lax.message
    assert path in [w.path for w in lax.warnings]
    strict = validate(attrs, strict=True)
    if strict_schema_rejects:
        assert not strict
        assert path in [e.path for e in strict.errors]
    else:
        assert strict, strict.message
        assert path in [w.path for w in strict.warnings]
    verdict = schema_verdict(attrs, version, strict=True)
    assert verdict in (not strict_schema_rejects, None)


@pytest.mark.parametrize("key", ["multiscales", "plate", "well", "image-label"])
def test_04_inner_version_should(key):
    name = {"multiscales": EX, "plate": "plate_2wells", "well": "well_2fields",
            "image-label": "label_colors_properties"}[key]

    def drop(ns):
        (ns[key][0] if key == "multiscales" else ns[key]).pop("version")

    attrs = with_ns("0.4", name, drop)
    # the fixture may still be recognised as 0.4 from another key, or by default
    path = ("multiscales[0]" if key == "multiscales" else key) + ".version"
    assert validate(attrs)
    assert path in [e.path for e in validate(attrs, strict=True).errors]
    assert path in [e.path for e in validate(attrs, "0.4", strict=True).errors]
    verdict = schema_verdict(attrs, "0.4", strict=True)
    assert verdict in (False, None)


def test_04_wrong_inner_version():
    attrs = with_ns("0.4", "plate_2wells", lambda ns: ns["plate"].update(version="0.3"))
    res = validate(attrs)
    assert not res
    assert res.errors[0].path == "plate.version"
    attrs = with_ns("0.4", EX, lambda ns: ns["multiscales"].append(
        {**copy.deepcopy(_ms(ns)), "version": "0.5", "name": "other"}))
    res = validate(attrs)
    assert "multiscales[1].version" in [e.path for e in res.errors]


def test_05_version_rules():
    attrs = fixture("0.5", EX)
    attrs["ome"]["version"] = "0.4"
    res = validate(attrs)
    assert not res and res.errors[0].path == "ome.version"
    del attrs["ome"]["version"]
    res = validate(attrs)
    assert not res and "ome.version" in [e.path for e in res.errors]
    res = validate({"ome": {"version": "0.6"}})
    assert not res and res.errors[0].path == "ome.version" and "unsupported" in res.message
    res = validate({"ome": {"version": "0.5"}})
    assert not res and res.errors[0].path == "ome"
    res = validate(fixture("0.4", EX), version="0.5")
    assert not res and "ome" in [e.path for e in res.errors]
    assert "multiscales[0].version" in [e.path for e in res.errors]
    res = validate(fixture("0.5", EX), version="0.4")
    assert not res and "ome.version" in [e.path for e in res.errors]


def test_05_with_04_keys_warns():
    attrs = fixture("0.5", EX)
    attrs["multiscales"] = fixture("0.4", EX)["multiscales"]
    res = validate(attrs)
    assert res and res.version == "0.5"
    assert "multiscales" in [w.path for w in res.warnings]
    attrs["ome"]["multiscales"][0]["version"] = "0.5"
    # an inner version equal to ome.version is tolerated
    assert "ome.multiscales[0].version" not in [w.path for w in validate(attrs).warnings]
    attrs["ome"]["multiscales"][0]["version"] = "0.4"
    assert "ome.multiscales[0].version" in [w.path for w in validate(attrs).warnings]


def test_not_ome_at_all():
    assert not validate({"foo": 1})
    assert validate({"foo": 1}).errors[0].message == "no OME-Zarr metadata found"
    assert not validate([1, 2])
    assert not validate({"multiscales": "nope"})


def test_result_object():
    bad = with_ns("0.5", TR, _drop_axis)
    res = validate(bad)
    assert bool(res) is False and res.valid is False
    assert "ome.multiscales[0].axes" in res.message
    with pytest.raises(NgffError) as info:
        res.raise_for_errors()
    assert info.value.path == res.errors[0].path
    assert isinstance(info.value, ValueError)
    good = validate(fixture("0.5", EX))
    assert good.valid and good.message.startswith("valid")
    good.raise_for_errors()


def test_every_problem_has_a_path():
    attrs = with_ns("0.5", EX, lambda ns: [_set_axis(0, type=1)(ns), _ct(ns, 1).clear(),
                                           _ms(ns)["datasets"][2].update(path="..")])
    res = validate(attrs)
    paths = [e.path for e in res.errors]
    assert len(res.errors) >= 3
    assert all(p.startswith("ome.multiscales[0].") for p in paths), paths
    assert "ome.multiscales[0].datasets[2].path" in paths


def test_namespace_helper_sanity():
    # guard against a fixture mistake making every case trivially pass
    for version in VERSIONS:
        assert "multiscales" in namespace(fixture(version, EX), version)


# -- robustness: arbitrary JSON never crashes the validator or the parser --------------------

import os  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.floats(allow_nan=False)
    | st.sampled_from(["0", "x", "y", "space", "time", "channel", "scale", "translation",
                       "../a", "A/1", "0.4", "0.5", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "type", "unit", "path", "scale", "translation", "axes",
                         "datasets", "coordinateTransformations", "version", "label-value",
                         "rows", "columns", "wells", "images", "rowIndex", "columnIndex",
                         "channels", "window", "color", "colors", "rgba", "id"]),
        inner, max_size=4),
    max_leaves=12)


def _replace(doc, steps, value):
    """Replace the subtree reached by following ``steps`` (indices into keys/items)."""
    node = doc
    for s in steps:
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) \
            if isinstance(node, list) else []
        if not children:
            break
        key, child = children[s % len(children)]
        if not isinstance(child, (dict, list)) or s % 3 == 0:
            node[key] = value
            return doc
        node = child
    return doc


# NGFF_FUZZ_EXAMPLES=5000 for a longer run by hand
@settings(max_examples=int(os.environ.get("NGFF_FUZZ_EXAMPLES", "150")), deadline=None)
@given(name=st.sampled_from(fixture_names()), version=st.sampled_from(VERSIONS),
       steps=st.lists(st.integers(0, 50), min_size=1, max_size=6), value=_json)
def test_garbage_never_crashes(name, version, steps, value):
    from omezarr_fast.ngff import parse_attributes
    attrs = _replace(fixture(version, name), steps, value)
    res = validate(attrs)
    assert isinstance(res.errors, list)
    for strict in (False, True):
        validate(attrs, strict=strict)
    try:
        parse_attributes(attrs)
    except NgffError:
        pass


@pytest.mark.parametrize("key", ["window", "color"])
def test_omero_window_and_color(key):
    """Required by the 0.4 schema; the 0.5 schema only expects them (a SHOULD here)."""
    for version in VERSIONS:
        attrs = with_ns(version, "image_omero", lambda ns: ns["omero"]["channels"][0].pop(key))
        path = full_path(version, f"omero.channels[0].{key}")
        res = validate(attrs)
        if version == "0.4":
            assert not res and path in [e.path for e in res.errors]
            assert schema_verdict(attrs, version) in (False, None)
        else:  # a SHOULD the strict schema does not require either
            assert res and path in [w.path for w in res.warnings]
            assert validate(attrs, strict=True)
            assert schema_verdict(attrs, version) in (True, None)
            assert schema_verdict(attrs, version, strict=True) in (True, None)


def test_label_value_integer():
    """0.5 text: label-value MUST be an integer; 0.4 (and both schemas): a number."""
    for version in VERSIONS:
        attrs = with_ns(version, "label_colors_properties",
                        lambda ns: ns["image-label"]["colors"][0].update({"label-value": 1.5}))
        path = full_path(version, "image-label.colors[0].label-value")
        res = validate(attrs)
        if version == "0.5":
            assert not res and path in [e.path for e in res.errors]
        else:
            assert res and path in [w.path for w in res.warnings]
            assert validate(attrs, strict=True)
        assert schema_verdict(attrs, version) in (True, None)
