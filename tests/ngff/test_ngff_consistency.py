"""What validate() accepts, parse_attributes() reads and to_dict() writes back unchanged.

Both bugs here were found by fuzzing: metadata that validates (with warnings) but could not be
written back, or could not be parsed at all, so open_image refused valid data.
"""
from __future__ import annotations

import copy

import pytest
from helpers.ngff import VERSIONS, fixture, fixture_names, full_path, namespace, with_ns

from omezarr_fast import ngff

MINIMAL_05 = {"ome": {"version": "0.5", "multiscales": [{
    "metadata": False,
    "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
    "datasets": [{"path": "0", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0, 1.0]}]}]}]}}


@pytest.mark.parametrize("metadata", [False, [1, 2], "gaussian", 3, None])
def test_non_object_method_metadata_round_trips(metadata):
    """``multiscales[].metadata`` SHOULD be an object (no schema types it): a warning, and
    whatever is there survives parse -> to_dict unchanged."""
    attrs = copy.deepcopy(MINIMAL_05)
    attrs["ome"]["multiscales"][0]["metadata"] = metadata
    res = ngff.validate(attrs)
    assert res, res.message
    if metadata is not None:
        assert "ome.multiscales[0].metadata" in [w.path for w in res.warnings]
    assert ngff.parse_attributes(attrs).to_dict() == attrs


@pytest.mark.parametrize("version", VERSIONS)
def test_non_object_method_metadata_round_trips_04(version):
    attrs = with_ns(version, "multiscales_example",
                    lambda ns: ns["multiscales"][0].update(metadata=["a"]))
    assert ngff.validate(attrs)
    assert ngff.parse_attributes(attrs).to_dict() == attrs


@pytest.mark.parametrize("key", ["window", "color"])
def test_05_omero_channel_without_window_or_color_parses(key):
    """0.5's schema only expects window and color (a SHOULD here): parse must accept the
    channel that validate passes, and write it back without inventing the field."""
    attrs = with_ns("0.5", "image_omero", lambda ns: ns["omero"]["channels"][0].pop(key))
    res = ngff.validate(attrs)
    assert res and full_path("0.5", f"omero.channels[0].{key}") in [w.path for w in res.warnings]
    model = ngff.parse_attributes(attrs)
    assert getattr(model.omero.channels[0], key) is None
    assert model.to_dict() == attrs


def test_04_omero_channel_without_window_is_an_error_that_still_parses():
    """0.4's schema requires window: validate says so; parsing is not validation and reads
    the channel (so data from a tool that left it out still opens)."""
    attrs = with_ns("0.4", "image_omero", lambda ns: ns["omero"]["channels"][0].pop("window"))
    res = ngff.validate(attrs)
    assert not res and "omero.channels[0].window" in [e.path for e in res.errors]
    assert ngff.parse_attributes(attrs).to_dict() == attrs


@pytest.mark.parametrize("window", [[], {"start": 0, "end": 1, "min": 0}])
def test_malformed_window_is_refused_by_both(window):
    attrs = with_ns("0.5", "image_omero",
                    lambda ns: ns["omero"]["channels"][0].update(window=window))
    assert not ngff.validate(attrs)
    with pytest.raises(ngff.NgffError, match=r"omero\.channels\[0\]\.window"):
        ngff.parse_attributes(attrs)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", fixture_names())
def test_valid_fixtures_parse_and_round_trip(name, version):
    attrs = fixture(version, name)
    assert ngff.validate(attrs)
    assert ngff.parse_attributes(attrs).to_dict() == attrs
    assert namespace(attrs, version)  # the fixture is not empty


# -- the property the fuzzer found broken -----------------------------------------------------

import os  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_leaf = (st.none() | st.booleans() | st.integers(-3, 300) | st.floats(allow_nan=False)
         | st.sampled_from(["0", "x", "y", "space", "time", "channel", "scale", "FF0000",
                            "translation", "A/1", "0.4", "0.5", ""]))
_json = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "type", "unit", "path", "scale", "metadata", "window",
                         "color", "label", "active", "rdefs", "source", "properties",
                         "acquisition", "field_count", "acquisitions", "start", "end",
                         "min", "max", "custom", "colors", "rgba", "label-value", "rows",
                         "columns", "wells", "images", "rowIndex", "columnIndex", "id",
                         "version", "series", "labels", "axes", "datasets"]),
        inner, max_size=3),
    max_leaves=8)


def _targets(doc, prefix=()):
    """Every (container, key) pair inside ``doc``."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) \
        if isinstance(doc, list) else ()
    for k, v in items:
        yield doc, k
        yield from _targets(v, prefix + (k,))


# NGFF_FUZZ_EXAMPLES=5000 for a longer run by hand
@settings(max_examples=int(os.environ.get("NGFF_FUZZ_EXAMPLES", "200")), deadline=None)
@given(name=st.sampled_from(fixture_names()), version=st.sampled_from(VERSIONS),
       pick=st.integers(0, 10_000), value=_json, drop=st.booleans())
def test_what_validates_parses_and_round_trips(name, version, pick, value, drop):
    attrs = copy.deepcopy(fixture(version, name))
    targets = list(_targets(attrs))
    container, key = targets[pick % len(targets)]
    if drop and isinstance(container, dict):
        del container[key]
    else:
        container[key] = value
    if not ngff.validate(attrs):
        return
    model = ngff.parse_attributes(attrs)
    out = model.to_dict()
    # 0.4 writes the SHOULD-have inner versions back; everything else is kept as found
    assert ngff.parse_attributes(out).to_dict() == out
    if version == "0.5":
        assert out == attrs
