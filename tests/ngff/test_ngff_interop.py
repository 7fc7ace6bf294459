"""Metadata interop with ngff-zarr: it reads (and schema-validates) what we build, and our
validator accepts what it writes, with the same per-level scale/translation convention."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers.ngff import VERSIONS, image

from omezarr_fast import ngff

nz = pytest.importorskip("ngff_zarr", reason="ngff-zarr not installed")


@pytest.mark.parametrize("version", VERSIONS)
def test_ngff_zarr_reads_ours(tmp_path, version):
    root = tmp_path / "img.zarr"
    ms = image(root, version)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nz.from_ngff_zarr(str(root), validate=True)
    assert [im.data.shape for im in theirs.images] == [(2, 16, 32), (2, 8, 16), (2, 4, 8)]
    for level, ds in zip(theirs.metadata.datasets, ms.datasets, strict=True):
        seq = level.coordinateTransformations[0]
        transforms = getattr(seq, "transformations", None) or level.coordinateTransformations
        scale = next(t.scale for t in transforms if t.type == "scale")
        assert list(scale) == ds.scale


@pytest.mark.parametrize("version", VERSIONS)
def test_we_accept_ngff_zarr_output(tmp_path, version):
    data = np.zeros((2, 9, 33, 47), dtype=np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = nz.to_ngff_image(data, dims=["c", "z", "y", "x"],
                               scale={"z": 2.0, "y": 0.5, "x": 0.5},
                               axes_units={"z": "micrometer", "y": "micrometer",
                                           "x": "micrometer"})
        multiscales = nz.to_multiscales(img, scale_factors=[2, 4],
                                        method=nz.Methods.DASK_BIN_SHRINK)
        nz.to_ngff_zarr(str(tmp_path / "x.zarr"), multiscales, version=version)
    res = ngff.validate_path(tmp_path / "x.zarr", strict=True)
    assert res, res.message
    assert res.version == version
    ms = ngff.read_metadata(tmp_path / "x.zarr").multiscales[0]
    # ngff-zarr writes the same convention as DESIGN.md: identical numbers
    ours = ngff.pyramid_transforms([1.0, 2.0, 0.5, 0.5], [[1, 2, 2, 2], [1, 2, 2, 2]])
    assert [d.scale for d in ms.datasets] == [t.scale for t in ours]
    assert [d.translation for d in ms.datasets] == [t.translation for t in ours]
