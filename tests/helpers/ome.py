"""OME-Zarr inputs written by others, and reading levels back."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import zarr

from omezarr_fast import ngff

COLORS = [{"label-value": 1, "rgba": [255, 0, 0, 255]}, {"label-value": 2, "rgba": [0, 255, 0, 128]}]
PROPS = [{"label-value": 1, "class": "nucleus"}, {"label-value": 2, "class": "cytoplasm"}]


def write_ozp04(path: Path) -> Path:
    """A 0.4 image with a label image at ``path``, written by ome-zarr-py."""
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image as oz_write_image
    from ome_zarr.writer import write_labels as oz_write_labels

    rng = np.random.default_rng(0)
    data = rng.integers(0, 1000, (2, 8, 64, 48), dtype=np.uint16)
    labels = rng.integers(0, 3, (1, 8, 64, 48), dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = zarr.open_group(str(path), mode="w", zarr_format=2)
        oz_write_image(data, g, axes="czyx", fmt=FormatV04(), scale_factors=[2, 4],
                       scale={"z": 2.0, "y": 0.5, "x": 0.5},
                       axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
                       storage_options={"chunks": (1, 4, 32, 32)})
        oz_write_labels(labels, g, name="cells", fmt=FormatV04(), axes="czyx",
                        scale_factors=[2, 4],
                        label_metadata={"colors": COLORS, "properties": PROPS})
    assert ngff.validate_path(path).version == "0.4"
    return path


def levels_of(path, chunks=False):
    g = zarr.open_group(str(path), mode="r")
    meta = ngff.read_metadata(path).multiscales[0]
    return [g[d.path].chunks if chunks else g[d.path][...] for d in meta.datasets]
