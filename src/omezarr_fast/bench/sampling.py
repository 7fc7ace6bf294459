"""Where the data comes from, and which chunks of it are measured.

An input is opened lazily by :mod:`omezarr_fast.inputs` (zarr, HDF5,
memory-mapped .npy, TIFF tile by tile) and only the sampled chunks are read,
so a terabyte array costs the sample, not the array.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from omezarr_fast.bench.errors import BenchError
from omezarr_fast.inputs import InputError, open_file
from omezarr_fast.pyramid.layout import halve_to_fit
from omezarr_fast.samples import microscopy_with_labels
from omezarr_fast.store import Location, location

DEFAULT_CHUNK_BYTES = 1 << 20      # chunk shape guessed for inputs that have none
DEFAULT_SAMPLE_BYTES = 16 << 20    # how much data the sampled chunks hold, at most
DEFAULT_MAX_CHUNKS = 16


@dataclass
class Source:
    """An opened input: anything sliceable with .shape and .dtype, plus what it is."""
    array: object
    description: str
    chunk_shape: tuple[int, ...] | None
    synthetic: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.array.dtype)


def synthetic_sample(shape=(2, 32, 512, 512), seed: int = 0) -> np.ndarray:
    """A microscopy-like uint16 (c, z, y, x) volume: channel 0 fluorescence, channel 1
    a sparse label image (:func:`omezarr_fast.samples.microscopy_with_labels`)."""
    try:
        return microscopy_with_labels(shape, seed)
    except ValueError as e:
        raise BenchError(f"synthetic sample {e}") from None


def open_input(path: str | None, level: int | None = None) -> Source:
    """Opens INPUT: a zarr array or OME-Zarr image, a TIFF, ``file.h5:/dataset``, a .npy; None = synthetic.

    Files are read through :mod:`omezarr_fast.inputs` (lazily: only the
    sampled chunks are read); the first image (series) of a file is measured.
    """
    if path is None:
        a = synthetic_sample()
        return Source(a, "built-in synthetic microscopy-like sample (uint16 c,z,y,x: "
                         "smooth structure + shot noise in channel 0, sparse labels in channel 1)",
                      (1, 16, 256, 256), synthetic=True)
    loc = location(path)
    if not loc.is_local:
        return _open_remote(loc, level)
    try:
        opened = open_file(path)
    except InputError as e:
        raise BenchError(str(e)) from None
    image = opened.images[0]
    if level is not None and opened.format != "ome-zarr":
        raise BenchError(f"--level applies to an OME-Zarr image group; {path} is {_ARTICLE[opened.format]}")
    lv = level or 0
    if not 0 <= lv < len(image.levels):
        raise BenchError(f"--level {lv} is out of range: {path} has levels 0..{len(image.levels) - 1}")
    array = image.levels[lv]
    description = image.source
    if opened.format == "ome-zarr":
        description = f"{path} level {lv} (OME-Zarr)"
    # zarr and HDF5 chunks are what the codecs would see; TIFF tiles and strips are not.
    chunks = tuple(int(c) for c in array.chunks) if opened.format in ("zarr", "ome-zarr", "hdf5") and \
        getattr(array, "chunks", None) else None
    return Source(array, description, chunks)


def _open_remote(loc: Location, level: int | None) -> Source:
    """A zarr array or OME-Zarr image at a URL (files of other formats are read locally)."""
    import zarr

    from omezarr_fast import ngff
    from omezarr_fast.config import enabled

    try:
        _fmt, node_type, attrs, _ = loc.node()
    except FileNotFoundError:
        raise BenchError(f"{loc}: no zarr array or OME-Zarr image there") from None
    lv = level or 0
    with enabled():
        if node_type == "array":
            if level is not None:
                raise BenchError(f"--level applies to an OME-Zarr image group; {loc} is a zarr array")
            array = zarr.open_array(loc.open(), mode="r")
            return Source(array, f"{loc} (zarr)", tuple(int(c) for c in array.chunks))
        meta = ngff.parse_attributes(attrs) if ngff.detect_version(attrs) else None
        if meta is None or not meta.multiscales:
            raise BenchError(f"{loc}: a zarr group without an OME-Zarr image")
        datasets = meta.multiscales[0].datasets
        if not 0 <= lv < len(datasets):
            raise BenchError(f"--level {lv} is out of range: {loc} has levels 0..{len(datasets) - 1}")
        array = zarr.open_array(loc.child(datasets[lv].path, "multiscales[0].datasets.path").open(),
                                mode="r")
    return Source(array, f"{loc} level {lv} (OME-Zarr)", tuple(int(c) for c in array.chunks))


_ARTICLE = {"zarr": "a zarr array", "hdf5": "an HDF5 dataset", "npy": "a .npy file", "tiff": "a TIFF",
            "ome-tiff": "an OME-TIFF", "imagej-tiff": "an ImageJ TIFF"}


def guess_chunk_shape(shape, dtype, target_bytes: int = DEFAULT_CHUNK_BYTES) -> tuple[int, ...]:
    """1 along leading axes beyond the last three; the last three halved (largest first) to fit target_bytes."""
    shape = tuple(int(s) for s in shape)
    chunk = [1] * max(len(shape) - 3, 0) + list(shape[-3:])
    return halve_to_fit(chunk, np.dtype(dtype).itemsize, target_bytes)


def parse_chunks(text: str, ndim: int) -> tuple[int, ...]:
    try:
        chunks = tuple(int(x) for x in text.replace("x", ",").split(","))
    except ValueError:
        raise BenchError(f"--chunks must be comma-separated integers, got {text!r}") from None
    if len(chunks) != ndim or min(chunks) < 1:
        raise BenchError(f"--chunks {text!r} must give {ndim} positive sizes, one per axis")
    return chunks


def sample_chunks(array, chunk_shape, *, max_chunks: int = DEFAULT_MAX_CHUNKS,
                  max_bytes: int = DEFAULT_SAMPLE_BYTES) -> tuple[list[np.ndarray], list[tuple[int, ...]]]:
    """Reads whole chunks spread evenly over the array; returns them and their grid positions.

    Only complete chunks are sampled, so a partial edge chunk does not bias
    the ratio; a chunk shape larger than the array is clipped to it. The
    chunks taken are evenly spaced in C order over the chunk grid (first and
    last included), so every region of the array is represented.
    """
    shape = tuple(int(s) for s in array.shape)
    if len(shape) == 0 or math.prod(shape) == 0:
        raise BenchError(f"the array is empty (shape {shape}): nothing to measure")
    if len(chunk_shape) != len(shape):
        raise BenchError(f"chunk shape {tuple(chunk_shape)} does not match the array's {len(shape)} dimensions")
    chunk = tuple(min(int(c), s) for c, s in zip(chunk_shape, shape))
    grid = tuple(s // c for s, c in zip(shape, chunk))
    total = math.prod(grid)
    nbytes = math.prod(chunk) * np.dtype(array.dtype).itemsize
    k = max(1, min(total, max_chunks, max_bytes // max(nbytes, 1)))
    flat = np.unique(np.linspace(0, total - 1, k).round().astype(np.int64))
    positions = [tuple(int(i) for i in np.unravel_index(f, grid)) for f in flat]
    chunks = []
    for pos in positions:
        sel = tuple(slice(p * c, (p + 1) * c) for p, c in zip(pos, chunk))
        chunks.append(np.ascontiguousarray(np.asarray(array[sel])))
    return chunks, positions
