"""Fuzzing NGFF metadata: random mutations of valid OME-Zarr 0.4 and 0.5
attributes (every fixture in tests/data/ngff) through omezarr_fast.ngff.

- validate() never raises: it returns a ValidationResult whose problems name
  a JSON path;
- parse_attributes() and upgrade_attributes() raise only NgffError;
- what validate() accepts, parse_attributes() parses, and upgrading accepted
  0.4 metadata gives metadata that 0.5 validation accepts;
- on disk, validate_path() never raises and open_image() raises only what it
  documents (NgffError and the other ValueErrors, FileNotFoundError for a
  missing level) and never opens anything outside the image.

Never KeyError, TypeError, IndexError, AttributeError or RecursionError.
Bounded like the other fuzz tests (tests/helpers/fuzz_strategies.py): a fixed set of
examples by default, OMEZARR_FAST_FUZZ_EXAMPLES=N for a longer random run.
"""
from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from helpers.fuzz_strategies import fuzz_settings
from helpers.ngff import VERSIONS, fixture, fixture_names
from hypothesis import given
from hypothesis import strategies as st

from omezarr_fast import ngff, open_image, write_image
from omezarr_fast.ngff import NgffError

EXAMPLES = 150

# Values a stranger's JSON may hold where a valid one held something else.
ODD_VALUES = st.one_of(
    st.none(), st.booleans(),
    st.sampled_from([0, -1, 1, 2 ** 63, -(2 ** 63) - 1, 10 ** 400, 0.0, -0.0, 1e308, math.nan, math.inf,
                     -math.inf, "", "0.4", "0.5", "0.6", "..", "../..", "/etc", "a/../../b", "a\\b", "a\x00b",
                     "c", "y", "x", "t", "space", "time", "channel", "micrometer", "scale", "translation",
                     "identity", "A", "1", "A/1", "\u00e9", [], {}, [[]], [None], [1, 2, 3], {"": None}]),
    st.integers(), st.floats(), st.text(max_size=8),
    st.lists(st.one_of(st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=3)), max_size=5),
)


def nodes(doc, path=()):
    """Every (path, value) in a JSON document, the root included."""
    yield path, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from nodes(v, path + (i,))


def at(doc, path):
    for k in path:
        doc = doc[k]
    return doc


@st.composite
def mutated_json(draw, base):
    """base with one to four edits at random places: a value replaced by an odd
    one or by another node of the document, a key or element removed, an
    element duplicated, a list emptied, a value wrapped in a list, an unknown
    key added."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        places = list(nodes(doc))
        path, value = draw(st.sampled_from(places))
        op = draw(st.sampled_from(["replace", "replace", "graft", "delete", "duplicate", "empty", "wrap", "add"]))
        if op in ("replace", "graft", "delete", "wrap") and not path:
            continue
        parent = at(doc, path[:-1]) if path else None
        if op == "replace":
            parent[path[-1]] = draw(ODD_VALUES)
        elif op == "graft":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(places))[1])
        elif op == "delete":
            del parent[path[-1]]
        elif op == "wrap":
            parent[path[-1]] = [value]
        elif op == "duplicate" and isinstance(value, list) and value:
            value.append(copy.deepcopy(value[draw(st.integers(0, len(value) - 1))]))
        elif op == "empty" and isinstance(value, (list, dict)):
            value.clear()
        elif op == "add" and isinstance(value, dict):
            value[draw(st.sampled_from(["version", "axes", "datasets", "path", "extra", "ome", "multiscales",
                                        "coordinateTransformations", "labels", "plate", "well"]))] = draw(ODD_VALUES)
    return doc


CASES = [(v, name) for v in VERSIONS for name in fixture_names()]


def check_validate(attrs):
    res = ngff.validate(attrs)
    assert isinstance(res, ngff.ValidationResult)
    for p in res.errors + res.warnings:
        assert isinstance(p.path, str) and isinstance(p.message, str) and p.message
    ngff.validate(attrs, strict=True)
    assert isinstance(res.message, str)
    json.dumps(res.to_json())
    return res


@pytest.mark.parametrize("version,name", CASES)
def test_metadata_mutations(version, name):
    base = fixture(version, name)
    assert check_validate(base), "the fixture itself must be valid"

    @fuzz_settings(EXAMPLES)
    @given(mutated_json(base))
    def run(attrs):
        res = check_validate(attrs)
        try:
            parsed = ngff.parse_attributes(attrs)
        except NgffError as e:
            assert not res, f"validate() accepts what parse_attributes() refuses: {e}"
        else:
            if res:
                parsed.to_dict(res.version)
        try:
            up = ngff.upgrade_attributes(attrs)
        except NgffError:
            pass
        else:
            if res and res.version == "0.4":
                assert ngff.validate(up), f"upgrading valid 0.4 metadata gives invalid 0.5: {ngff.validate(up).message}"

    run()


@pytest.fixture(scope="module")
def image_root(tmp_path_factory):
    """A small OME-Zarr 0.5 image, with a sibling array that no path may reach."""
    base = tmp_path_factory.mktemp("ngff")
    root = base / "img.zarr"
    write_image(np.arange(2 * 16 * 16, dtype="u2").reshape(2, 16, 16), root, axes="cyx", levels=2,
                chunks=(1, 8, 8))
    write_image(np.zeros((2, 16, 16), "u2"), base / "outside.zarr", axes="cyx", levels=1, chunks=(1, 8, 8))
    meta = json.loads((root / "zarr.json").read_text())
    return root, meta


def test_open_image_mutated_metadata(image_root):
    root, meta = image_root

    @fuzz_settings(EXAMPLES)
    @given(mutated_json(meta["attributes"]))
    def run(attrs):
        (root / "zarr.json").write_text(json.dumps({**meta, "attributes": attrs}))
        try:
            res = ngff.validate_path(root)
            assert isinstance(res, ngff.ValidationResult)
            for validate in (True, False):
                try:
                    img = open_image(root, validate=validate)
                except (ValueError, FileNotFoundError):  # NgffError and zarr's errors are ValueErrors
                    continue
                for level in img.levels:
                    store_root = str(level.store_path.store.root)
                    assert str(root) in store_root or str(root) in str(level.store_path), \
                        f"a level opened outside the image: {level.store_path}"
        finally:
            (root / "zarr.json").write_text(json.dumps(meta))

    run()
