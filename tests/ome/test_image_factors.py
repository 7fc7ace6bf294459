"""Per-axis downsampling factors: write_image(factors=...), rebuild_pyramid, labels, CLI."""
from __future__ import annotations

import numpy as np
import pytest

from omezarr_fast import downsample, ngff
from omezarr_fast.cli import main
from omezarr_fast.ome.image import open_image, rebuild_pyramid, write_image
from omezarr_fast.ome.labels import write_labels

VERSIONS = ("0.4", "0.5")


def numpy_mean(a, factors):
    """Block mean with partial edge blocks, in float64, rounded half to even (integer input)."""
    out_shape = tuple(-(-n // f) for n, f in zip(a.shape, factors))
    out = np.empty(out_shape, np.float64)
    for idx in np.ndindex(*out_shape):
        sl = tuple(slice(i * f, (i + 1) * f) for i, f in zip(idx, factors))
        out[idx] = a[sl].astype(np.float64).mean()
    return np.rint(out).astype(a.dtype)


@pytest.mark.parametrize("version", VERSIONS)
def test_anisotropic_mapping_keeps_z(tmp_path, version):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 4000, (5, 37, 29), dtype=np.uint16)
    path = write_image(data, tmp_path / "a.zarr", axes="zyx", scale=[3.0, 0.5, 0.5],
                       factors={"z": 1}, chunks=(2, 8, 8), shards=(4, 16, 16), levels=3,
                       version=version, progress=False)
    img = open_image(path)
    assert [a.shape for a in img.levels] == [(5, 37, 29), (5, 19, 15), (5, 10, 8)]
    ds = img.multiscale.datasets
    assert [d.scale for d in ds] == [[3.0, 0.5, 0.5], [3.0, 1.0, 1.0], [3.0, 2.0, 2.0]]
    assert [d.translation for d in ds][1:] == [[0.0, 0.25, 0.25], [0.0, 0.75, 0.75]]
    want = data
    for level in img.levels[1:]:
        want = numpy_mean(want, (1, 2, 2))
        np.testing.assert_array_equal(level[...], want)
    assert ngff.validate_path(path)


@pytest.mark.parametrize("version", VERSIONS)
def test_sequence_factors_other_than_two(tmp_path, version):
    data = np.random.default_rng(4).normal(0, 1, (2, 20, 31, 26)).astype(np.float32)
    path = write_image(data, tmp_path / "b.zarr", axes="czyx", factors=[1, 2, 3, 4],
                       chunks=(1, 4, 8, 8), shards=(1, 8, 16, 16), levels=3, method="max",
                       version=version, progress=False)
    img = open_image(path)
    assert [a.shape for a in img.levels] == [(2, 20, 31, 26), (2, 10, 11, 7), (2, 5, 4, 2)]
    assert img.multiscale.datasets[2].scale == [1.0, 4.0, 9.0, 16.0]
    want = data
    for level in img.levels[1:]:
        want = downsample(want, (1, 2, 3, 4), "max")
        np.testing.assert_array_equal(level[...], want)
    # a max over a 4x9x16 window of level 0, computed directly
    np.testing.assert_array_equal(img.levels[2][1, 0, 0, 0], data[1, :4, :9, :16].max())


def test_default_levels_stop_on_downsampled_axes_only(tmp_path):
    data = np.zeros((64, 64, 64), np.uint8)
    img = open_image(write_image(data, tmp_path / "c.zarr", factors={"z": 1}, chunks=(64, 16, 16),
                                 progress=False))
    assert [a.shape for a in img.levels] == [(64, 64, 64), (64, 32, 32), (64, 16, 16)]


def test_factor_errors(tmp_path):
    data = np.zeros((2, 16, 16), np.uint8)
    cases = [({"q": 1}, ValueError, "unknown axis"), ([2, 2], ValueError, "2 entries"),
             ([1, 0, 2], ValueError, r"factors\['y'\]"), ([1, 2.5, 2], ValueError, "integer"),
             ({"c": 2}, ValueError, "channel"), ("222", TypeError, "factors must be")]
    for factors, exc, match in cases:
        with pytest.raises(exc, match=match):
            write_image(data, tmp_path / "e.zarr", axes="cyx", factors=factors, progress=False)
    with pytest.raises(ValueError, match="levels must be 1"):
        write_image(data, tmp_path / "e.zarr", axes="cyx", factors=[1, 1, 1], levels=2)
    assert not (tmp_path / "e.zarr").exists()
    img = open_image(write_image(data, tmp_path / "f.zarr", axes="cyx", factors=[1, 1, 1],
                                 progress=False))
    assert len(img.levels) == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_labels_and_rebuild_keep_the_factors(tmp_path, version):
    data = np.random.default_rng(5).integers(0, 100, (6, 40, 36), dtype=np.uint8)
    path = write_image(data, tmp_path / "d.zarr", factors={"z": 1}, chunks=(2, 8, 8),
                       shards=(2, 16, 16), levels=2, version=version, progress=False)
    lab = (data > 50).astype(np.uint8)
    write_labels(lab, path, "m", progress=False)
    assert open_image(path / "labels" / "m").levels[1].shape == (6, 20, 18)
    # rebuild with more levels: the image's own factors (z kept) are reused, labels follow
    img = rebuild_pyramid(path, levels=3, progress=False)
    assert [a.shape for a in img.levels] == [(6, 40, 36), (6, 20, 18), (6, 10, 9)]
    np.testing.assert_array_equal(img.levels[2][...],
                                  downsample(downsample(data, (1, 2, 2)), (1, 2, 2)))
    labels = open_image(path / "labels" / "m")
    assert [a.shape for a in labels.levels] == [a.shape for a in img.levels]
    assert labels.multiscale.datasets[2].scale == [1.0, 4.0, 4.0]
    # and explicit factors replace them
    img = rebuild_pyramid(path, levels=2, factors=[2, 2, 2], progress=False)
    assert img.levels[1].shape == (3, 20, 18)
    assert open_image(path / "labels" / "m").levels[1].shape == (3, 20, 18)
    assert ngff.validate_path(path)


def test_cli_factors(tmp_path, capsys):
    src = tmp_path / "in.npy"
    np.save(src, np.arange(4 * 32 * 32, dtype=np.uint16).reshape(4, 32, 32))
    out = tmp_path / "out.zarr"
    assert main(["convert", str(src), str(out), "--axes", "zyx", "--factors", "z=1", "--levels", "3",
                 "--no-progress"]) == 0
    assert [a.shape for a in open_image(out).levels] == [(4, 32, 32), (4, 16, 16), (4, 8, 8)]
    assert main(["pyramid", str(out), "--factors", "2,2,2", "--levels", "2",
                 "--no-progress"]) == 0
    assert open_image(out).levels[1].shape == (2, 16, 16)
    capsys.readouterr()
    assert main(["pyramid", str(out), "--factors", "w=2", "--no-progress"]) == 2
    assert "unknown axis" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["pyramid", str(out), "--factors", "z=x"])
    assert "expected integers" in capsys.readouterr().err
