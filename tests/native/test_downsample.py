"""omezarr_fast.downsample against a plain numpy oracle."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omezarr_fast
from omezarr_fast.downsample import METHODS, downsample, downsample_block, downsample_levels

INT_DTYPES = [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64]
FLOAT_DTYPES = [np.float32, np.float64]
ALL_DTYPES = INT_DTYPES + FLOAT_DTYPES + [np.bool_]


# ---------------------------------------------------------------- the oracle

def reduce_block(b, method, dtype):
    """One block, straightforwardly: Python ints for integer means, float64
    for float means, numpy for the rest."""
    b = b.ravel()
    n = b.size
    if method == "stride":
        return b[0]
    if method == "min":
        return b.min()
    if method == "max":
        return b.max()
    if method == "mode":
        values, counts = np.unique(b, return_counts=True)
        return values[np.argmax(counts)]  # argmax: first = smallest on a tie
    if method == "median":
        if np.dtype(dtype).kind == "f":
            return np.median(b.astype(np.float64))
        return np.sort(b)[(n - 1) // 2]
    # mean
    if np.dtype(dtype).kind == "f":
        return b.astype(np.float64).mean()
    q, r = divmod(sum(int(v) for v in b), n)
    if 2 * r > n or (2 * r == n and q % 2):
        q += 1
    return q


def oracle(x, factors, method):
    shape = tuple(-(-n // f) for n, f in zip(x.shape, factors))
    out = np.empty(shape, x.dtype)
    with np.errstate(all="ignore"):
        for idx in np.ndindex(*shape):
            block = x[tuple(slice(i * f, (i + 1) * f) for i, f in zip(idx, factors))]
            out[idx] = reduce_block(block, method, x.dtype)
    return out


def abs_mean(x, factors):
    with np.errstate(all="ignore"):
        return oracle(np.abs(x.astype(np.float64)), factors, "mean")


def assert_matches(got, want, x, factors, method):
    assert got.shape == want.shape and got.dtype == want.dtype
    if x.dtype.kind == "f" and method in ("mean", "median"):
        nan = np.isnan(want)
        np.testing.assert_array_equal(np.isnan(got), nan)
        g, w = got[~nan].astype(np.float64), want[~nan].astype(np.float64)
        inf = np.isinf(w)
        np.testing.assert_array_equal(g[inf], w[inf])
        # 1 ulp of the output dtype, plus the float64 summation-order error.
        tol = np.spacing(np.abs(want[~nan][~inf])).astype(np.float64)
        tol += 8 * np.finfo(np.float64).eps * abs_mean(x, factors)[~nan][~inf]
        assert np.all(np.abs(g[~inf] - w[~inf]) <= tol), (g, w)
    else:
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- inputs

def make_data(rng, shape, dtype, narrow):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if narrow:  # few distinct values: ties for mode and median
            lo = max(info.min, -3)
            return rng.integers(lo, lo + 5, shape, dtype=dtype, endpoint=True)
        x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
        # Salt in the extremes so sums of max/min values are exercised.
        mask = rng.random(shape)
        x[mask < 0.1] = info.max
        x[mask > 0.9] = info.min
        return x
    if narrow:
        x = rng.integers(-2, 3, shape).astype(dtype)
    else:
        x = (rng.standard_normal(shape) * 100).astype(dtype)
    specials = rng.random(shape)
    x[specials < 0.03] = np.nan
    x[(specials > 0.03) & (specials < 0.04)] = np.inf
    x[(specials > 0.04) & (specials < 0.05)] = -np.inf
    return x


def with_layout(x, layout, rng):
    if layout == "C":
        return np.ascontiguousarray(x)
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "transposed":
        return np.ascontiguousarray(x.transpose()).transpose()
    # strided: a view into a bigger array, reversed along the first axis
    big = np.empty(tuple(2 * n for n in x.shape), x.dtype)
    view = big[tuple(slice(None, None, 2) for _ in x.shape)]
    view = view[::-1]
    view[...] = x
    return view


@st.composite
def cases(draw):
    ndim = draw(st.integers(1, 6))
    max_side = {1: 40, 2: 17, 3: 9, 4: 6, 5: 4, 6: 3}[ndim]
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim)))
    factors = tuple(draw(st.lists(st.sampled_from([1, 2, 2, 3, 4]), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(ALL_DTYPES))
    allowed = METHODS if dtype != np.bool_ else ("mode", "min", "max", "stride")
    method = draw(st.sampled_from(allowed))
    layout = draw(st.sampled_from(["C", "F", "transposed", "strided"]))
    narrow = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    return shape, factors, dtype, method, layout, narrow, seed


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_matches_numpy_oracle(case):
    shape, factors, dtype, method, layout, narrow, seed = case
    rng = np.random.default_rng(seed)
    x = with_layout(make_data(rng, shape, dtype, narrow), layout, rng)
    got = downsample(x, factors, method)
    assert_matches(got, oracle(x, factors, method), x, factors, method)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.uint32, np.uint64, np.int16])
@pytest.mark.parametrize("shape,factors", [((33, 47), (2, 2)), ((9, 11, 13), (2, 2, 2)), ((101,), (2,)),
                                           ((7, 12, 10), (1, 2, 2)), ((10, 9, 8), (2, 2, 1))])
def test_common_blocks(shape, factors, dtype, method):
    # The 2 / 2x2 / 2x2x2 fast kernels and their odd edges, on wide and narrow data.
    rng = np.random.default_rng(7)
    for narrow in (False, True):
        x = make_data(rng, shape, dtype, narrow)
        assert_matches(downsample(x, factors, method), oracle(x, factors, method), x, factors, method)


# ---------------------------------------------------------------- semantics

def test_documented_examples():
    np.testing.assert_array_equal(downsample(np.array([1, 2, 3, 4, 5]), 2), [2, 4, 5])
    # Round half to even, negatives included.
    pairs = np.array([0, 1, 1, 2, 2, 3, -1, -2, -3, -4], np.int32)
    np.testing.assert_array_equal(downsample(pairs, 2), [0, 2, 2, -2, -4])
    # Mode: smallest on a tie; median: lower middle for integers.
    np.testing.assert_array_equal(downsample(np.array([[5, 3], [3, 5]], np.uint32), 2, "mode"), [[3]])
    np.testing.assert_array_equal(downsample(np.array([1, 2, 8, 9], np.uint8), 4, "median"), [2])
    np.testing.assert_array_equal(downsample(np.array([1, 2, 8, 9], np.float32), 4, "median"), [5.0])
    np.testing.assert_array_equal(downsample(np.arange(10), 3, "stride"), [0, 3, 6, 9])


@pytest.mark.parametrize("dtype", [np.uint64, np.int64, np.uint32, np.int32])
def test_mean_does_not_overflow(dtype):
    info = np.iinfo(dtype)
    x = np.full((4, 6, 6), info.max, dtype)
    np.testing.assert_array_equal(downsample(x, (2, 2, 2)), np.full((2, 3, 3), info.max, dtype))
    np.testing.assert_array_equal(downsample(x, (4, 5, 3)), np.full((1, 2, 2), info.max, dtype))
    x = np.full((4, 4), info.min, dtype)
    np.testing.assert_array_equal(downsample(x, (2, 2)), np.full((2, 2), info.min, dtype))
    # max and max-1 average to max-0.5: half to even picks the even one.
    pair = np.array([info.max, info.max - 1], dtype)
    want = info.max - 1 if info.max % 2 else info.max
    assert downsample(pair, 2)[0] == want
    mixed = np.array([info.min, info.max], dtype)
    assert downsample(mixed, 2)[0] == reduce_block(mixed, "mean", dtype)


@pytest.mark.parametrize("method", ["mean", "median", "min", "max"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_propagates(method, dtype):
    x = np.arange(16, dtype=dtype).reshape(4, 4)
    x[0, 1] = np.nan
    got = downsample(x, (2, 2), method)
    assert np.isnan(got[0, 0])
    assert not np.isnan(got[1:, :]).any() and not np.isnan(got[:, 1:]).any()


def test_bool_methods():
    x = np.array([[True, False, True], [True, False, False]])
    np.testing.assert_array_equal(downsample(x, (2, 2), "min"), [[False, False]])
    np.testing.assert_array_equal(downsample(x, (2, 2), "max"), [[True, True]])
    np.testing.assert_array_equal(downsample(x, (2, 2), "mode"), [[False, False]])
    assert downsample(x, (2, 2), "stride").dtype == np.bool_


def test_float16_and_byte_order():
    x = np.arange(24, dtype=np.float16).reshape(4, 6)
    got = downsample(x, (2, 3))
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, oracle(x, (2, 3), "mean"))
    y = np.arange(24, dtype=">u2").reshape(4, 6)
    np.testing.assert_array_equal(downsample(y, (2, 2), "max"), oracle(y.astype("<u2"), (2, 2), "max"))


def test_out_argument_and_layout():
    x = np.asfortranarray(np.random.default_rng(1).integers(0, 255, (20, 30), dtype=np.uint8))
    default = downsample(x, (2, 3))
    assert default.flags.f_contiguous
    out = np.zeros((10, 10), np.uint8)
    assert downsample(x, (2, 3), out=out) is out
    np.testing.assert_array_equal(out, default)
    strided_out = np.zeros((10, 20), np.uint8)[:, ::2]
    downsample(x, (2, 3), out=strided_out)
    np.testing.assert_array_equal(strided_out, default)


def test_huge_factors_mean_one_block():
    x = np.arange(12, dtype=np.int64).reshape(3, 4)
    np.testing.assert_array_equal(downsample(x, (2**70, 2**63), "max"), [[11]])
    levels = downsample_levels(x, (2**62, 3), 2, "min")
    np.testing.assert_array_equal(levels[1], [[0]])


def test_empty_axis():
    assert downsample(np.zeros((0, 5), np.uint8), (2, 2)).shape == (0, 3)


# ---------------------------------------------------------------- threads, levels, blocks

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape,factors", [((64, 96, 80), (2, 2, 2)), ((3, 400_000), (3, 2)),
                                           ((1_000_001,), (3,)), ((130, 1030), (3, 5))])
def test_thread_count_does_not_change_result(shape, factors, method):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, shape, dtype=np.uint16) * 1000 if method == "mode" else \
        rng.standard_normal(shape).astype(np.float32)
    before = omezarr_fast.get_num_threads()
    try:
        omezarr_fast.set_num_threads(1)
        one = downsample(x, factors, method)
        one_levels = downsample_levels(x, factors, 3, method)
        omezarr_fast.set_num_threads(4)
        many = downsample(x, factors, method)
        many_levels = downsample_levels(x, factors, 3, method)
    finally:
        omezarr_fast.set_num_threads(before)
    np.testing.assert_array_equal(one, many)
    for a, b in zip(one_levels, many_levels):
        np.testing.assert_array_equal(a, b)


def test_large_mean_matches_vectorised_oracle():
    # Big enough to be split over threads and by row segments.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2**16, (6, 258, 1026), dtype=np.uint16)
    s = x.astype(np.int64).reshape(3, 2, 129, 2, 513, 2).sum(axis=(1, 3, 5))
    q, r = np.divmod(s, 8)
    want = q + ((r > 4) | ((r == 4) & (q % 2 == 1)))
    np.testing.assert_array_equal(downsample(x, (2, 2, 2)), want.astype(np.uint16))


@settings(max_examples=300, deadline=None)
@given(cases(), st.integers(1, 4))
def test_levels_equal_repeated_single_level(case, levels):
    shape, factors, dtype, method, layout, narrow, seed = case
    x = with_layout(make_data(np.random.default_rng(seed), shape, dtype, narrow), layout, None)
    got = downsample_levels(x, factors, levels, method)
    assert len(got) == levels
    level = x
    for k in range(levels):
        level = downsample(level, factors, method)
        np.testing.assert_array_equal(got[k], level)


@pytest.mark.parametrize("method", ["mean", "mode", "median", "max"])
def test_levels_on_large_tiled_input(method):
    rng = np.random.default_rng(11)
    x = rng.integers(0, 9, (37, 300, 517), dtype=np.uint8)
    got = downsample_levels(x, (2, 2, 2), 4, method)
    level = x
    for g in got:
        level = downsample(level, (2, 2, 2), method)
        np.testing.assert_array_equal(g, level)


@pytest.mark.parametrize("method", ["mean", "mode"])
def test_block_form_equals_whole_array(method):
    rng = np.random.default_rng(2)
    image = rng.integers(0, 50, (45, 70), dtype=np.uint16)
    factors, levels = (2, 2), 3
    whole = downsample_levels(image, factors, levels, method)
    assembled = [np.zeros_like(w) for w in whole]
    step = 16  # a multiple of 2**3
    for y in range(0, 45, step):
        for x in range(0, 70, step):
            block = image[y:y + step, x:x + step]
            parts = downsample_block(block, factors, levels, method, origin=(y, x), image_shape=image.shape)
            for k, part in enumerate(parts, start=1):
                c = 2 ** k
                assembled[k - 1][y // c:y // c + part.shape[0], x // c:x // c + part.shape[1]] = part
    for a, w in zip(assembled, whole):
        np.testing.assert_array_equal(a, w)


def test_block_alignment_is_checked():
    block = np.zeros((16, 16), np.uint8)
    with pytest.raises(ValueError, match=r"origin\[1\]"):
        downsample_block(block, (2, 2), 3, origin=(0, 4))
    with pytest.raises(ValueError, match="axis 0"):
        downsample_block(np.zeros((12, 16), np.uint8), (2, 2), 3, origin=(0, 0), image_shape=(100, 100))
    assert len(downsample_block(np.zeros((12, 16), np.uint8), (2, 2), 3, origin=(16, 0),
                                image_shape=(28, 100))) == 3


# ---------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(factors=(0, 2)), ValueError, r"factors\[0\] must be >= 1"),
    (dict(factors=(2, -1)), ValueError, r"factors\[1\] must be >= 1"),
    (dict(factors=(2, 2, 2)), ValueError, "factors must have one entry per axis"),
    (dict(factors=(2, 2.0)), TypeError, r"factors\[1\] must be an int"),
    (dict(factors="ab"), TypeError, r"factors\[0\] must be an int"),
    (dict(factors=None), TypeError, "factors must be an int or a sequence"),
    (dict(method="average"), ValueError, "method must be one of"),
    (dict(out=np.zeros((3, 3), np.uint8)), ValueError, "out has shape"),
    (dict(out=np.zeros((2, 3), np.uint16)), TypeError, "out has dtype"),
    (dict(out=[[0, 0, 0]]), TypeError, "out must be a numpy array"),
])
def test_bad_arguments(kwargs, exc, match):
    args = dict(factors=(2, 2), method="mean", out=None)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        downsample(np.zeros((4, 5), np.uint8), **args)


def test_bad_arrays():
    with pytest.raises(ValueError, match="1 to 6 dimensions"):
        downsample(np.zeros((), np.uint8), ())
    with pytest.raises(ValueError, match="1 to 6 dimensions"):
        downsample(np.zeros((1,) * 7, np.uint8), 1)
    with pytest.raises(TypeError, match="complex"):
        downsample(np.zeros(4, np.complex64), 2)
    with pytest.raises(TypeError, match="method 'mean' does not support bool"):
        downsample(np.zeros(4, bool), 2)
    with pytest.raises(TypeError, match="method 'median' does not support bool"):
        downsample(np.zeros(4, bool), 2, "median")
    x = np.zeros(8, np.uint8)
    with pytest.raises(ValueError, match="overlaps"):
        downsample(x, 2, out=x[:4])
    ro = np.zeros(4, np.uint8)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        downsample(x, 2, out=ro)
    with pytest.raises(ValueError, match="levels must be >= 1"):
        downsample_levels(x, 2, 0)
    with pytest.raises(TypeError, match="levels must be an int"):
        downsample_levels(x, 2, 1.5)


def test_exported_from_package():
    assert omezarr_fast.downsample is downsample
    assert omezarr_fast.downsample_levels is downsample_levels
    assert math.prod(downsample(np.ones((5, 5)), 2).shape) == 9
