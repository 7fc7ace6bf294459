"""Label images carried across conversions: copy an image's labels to a new image, or
attach label images read from files."""
from __future__ import annotations

from pathlib import Path

from omezarr_fast import ngff
from omezarr_fast.downsample import METHODS
from omezarr_fast.image import Image, open_image, write_labels

__all__ = ["copy_labels", "open_label_source"]


def copy_labels(source: Image | str | Path, image_path, *, names=None, codec="zstd",
                clevel=None, overwrite=False, progress=None) -> list[str]:
    """Write the label images of ``source`` (an OME-Zarr 0.4/0.5 image) under the image at
    ``image_path``, in that image's version, with as many levels as it has.

    Each label keeps its ``image-label`` metadata (colors, properties, source) and its
    downsampling method (mode unless it names another of ours); level 0 is streamed from
    the source label and the pyramid rebuilt to match the new image. Returns the names
    copied (``names`` to pick some; default all).
    """
    img = source if isinstance(source, Image) else open_image(source)
    have = img.labels
    wanted = have if names is None else list(names)
    missing = [n for n in wanted if n not in have]
    if missing:
        raise KeyError(f"no label image {missing[0]!r} in {img.path} (have {have})")
    for name in wanted:
        lab = img.label(name)
        method = lab.multiscale.type if lab.multiscale.type in METHODS else "mode"
        write_labels(lab.levels[0], image_path, name, method=method,
                     image_label=lab.metadata.image_label or ngff.ImageLabel(),
                     codec=codec, clevel=clevel, overwrite=overwrite, progress=progress)
    return wanted


def open_label_source(path):
    """``(array, image_label or None)`` for a label file: an OME-Zarr label image (its
    level 0 and ``image-label``), or anything :func:`omezarr_fast.bench.sampling.open_input`
    reads (TIFF, ``file.h5:/dataset``, ``.npy``, a zarr array)."""
    p = Path(path)
    if p.is_dir():
        try:
            attrs = ngff.read_attributes(p)
        except (ValueError, OSError):
            attrs = {}
        if ngff.detect_version(attrs):
            img = open_image(p)
            return img.levels[0], img.metadata.image_label
    from omezarr_fast.bench.sampling import open_input

    return open_input(str(path)).array, None
