"""selection.box: the unit-step fast path gives exactly the box the general path does."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from omezarr_fast.pipeline import selection
from omezarr_fast.pipeline.selection import Box, box


@st.composite
def cases(draw):
    nd = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(nd))
    chunk_sel, out_sel, out_shape = [], [], []
    for n in shape:
        start = draw(st.integers(-n - 2, n + 2))
        stop = draw(st.integers(-n - 2, n + 2) | st.none())
        step = draw(st.sampled_from([None, 1, 1, 2, 3]))
        s = slice(start, stop, step)
        k = len(range(*s.indices(n)))
        pad = draw(st.integers(0, 3))
        ostep = draw(st.sampled_from([None, 1, 1, 2]))
        o = slice(pad, pad + k * (ostep or 1), ostep)
        chunk_sel.append(s)
        out_sel.append(o)
        out_shape.append(pad + k * (ostep or 1) + draw(st.integers(0, 2)))
    order = draw(st.sampled_from("CF"))
    arr = np.empty(out_shape, dtype=draw(st.sampled_from(["u1", "u2", "f8"])), order=order)
    return tuple(chunk_sel), tuple(out_sel), shape, arr


@settings(max_examples=400, deadline=None)
@given(cases())
def test_fast_path_matches_general_path(case):
    chunk_sel, out_sel, shape, arr = case
    fast = selection._slices_box(chunk_sel, out_sel, shape, arr)
    general = selection._general_box(chunk_sel, out_sel, shape, arr)
    assert box(chunk_sel, out_sel, shape, arr, ()) == general
    if fast is not None:  # it declines what it does not cover; what it covers, it gets right
        assert fast == general


def test_fast_path_takes_the_usual_read():
    arr = np.empty((64, 64, 64), np.uint16)
    chunk_sel = (slice(10, 64), slice(0, 30), slice(5, 37))
    out_sel = (slice(0, 54), slice(34, 64), slice(0, 32))
    got = selection._slices_box(chunk_sel, out_sel, (64, 64, 64), arr)
    assert got == Box((10, 0, 5), (1, 1, 1), (54, 30, 32), 34 * 128, arr.strides)
