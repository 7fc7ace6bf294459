"""pytest-benchmark suite for omezarr_fast.downsample (ours only; peers are in
compare_downsample.py).

    PYTHONPATH=src python -m pytest benchmarks/bench_downsample.py --benchmark-only
"""
import numpy as np
import pytest

from omezarr_fast import downsample, downsample_levels

SHAPES = {"2d": ((4096, 4096), (2, 2)), "3d": ((64, 512, 512), (2, 2, 2))}


def image(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32) * 20 + 100
    return np.clip(x, 0, 255).astype(dtype)


def labels(shape, dtype, block=24):
    """Blocky labels (a few hundred ids) shifted off the 2-grid, so some blocks mix."""
    rng = np.random.default_rng(0)
    coarse = rng.integers(1, 300, tuple(-(-s // block) + 1 for s in shape)).astype(dtype)
    for ax in range(len(shape)):
        coarse = np.repeat(coarse, block, axis=ax)
    return np.ascontiguousarray(coarse[tuple(slice(1, s + 1) for s in shape)])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("dims", ["2d", "3d"])
def test_mean(benchmark, dims, dtype):
    shape, factors = SHAPES[dims]
    x = image(shape, dtype)
    benchmark.extra_info["input_bytes"] = x.nbytes
    out = benchmark(downsample, x, factors, "mean")
    assert out.shape == tuple(s // 2 for s in shape)


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
@pytest.mark.parametrize("dims", ["2d", "3d"])
def test_mode(benchmark, dims, dtype):
    shape, factors = SHAPES[dims]
    x = labels(shape, dtype)
    benchmark.extra_info["input_bytes"] = x.nbytes
    out = benchmark(downsample, x, factors, "mode")
    assert out.dtype == dtype


@pytest.mark.parametrize("method", ["median", "min", "max", "stride"])
def test_other_methods_3d_uint16(benchmark, method):
    shape, factors = SHAPES["3d"]
    x = image(shape, np.uint16)
    out = benchmark(downsample, x, factors, method)
    assert out.shape == (32, 256, 256)


@pytest.mark.parametrize("method,dtype", [("mean", np.uint16), ("mode", np.uint64)])
@pytest.mark.parametrize("dims", ["2d", "3d"])
def test_four_levels(benchmark, dims, method, dtype):
    shape, factors = SHAPES[dims]
    x = image(shape, dtype) if method == "mean" else labels(shape, dtype)
    levels = benchmark(downsample_levels, x, factors, 4, method)
    assert len(levels) == 4
