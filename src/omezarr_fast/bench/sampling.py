"""Where the data comes from, and which chunks of it are measured.

An input is opened lazily (zarr, HDF5, memory-mapped .npy / TIFF where
possible) and only the sampled chunks are read, so a terabyte array costs
the sample, not the array.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from omezarr_fast.bench.errors import BenchError
from omezarr_fast.pyramid.layout import halve_to_fit
from omezarr_fast.samples import microscopy_with_labels

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
    """Opens INPUT: a zarr array or OME-Zarr image, a TIFF, ``file.h5:/dataset``, a .npy; None = synthetic."""
    if path is None:
        a = synthetic_sample()
        return Source(a, "built-in synthetic microscopy-like sample (uint16 c,z,y,x: "
                         "smooth structure + shot noise in channel 0, sparse labels in channel 1)",
                      (1, 16, 256, 256), synthetic=True)
    h5 = _split_h5(path)
    if h5 is not None:
        return _open_h5(*h5)
    if not os.path.exists(path):
        raise BenchError(f"no such file or directory: {path}")
    lower = path.lower().rstrip("/")
    if lower.endswith(".npy"):
        try:
            a = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as e:
            raise BenchError(f"cannot read {path} as .npy: {e}") from None
        return Source(a, f"{path} (npy)", None)
    if lower.endswith((".tif", ".tiff")):
        return _open_tiff(path)
    if os.path.isdir(path):
        return _open_zarr(path, level)
    raise BenchError(f"cannot tell what {path} is: expected a zarr directory, .tif/.tiff, .npy or file.h5:/dataset")


def _split_h5(path: str):
    for ext in (".h5:", ".hdf5:", ".hdf:"):
        i = path.lower().find(ext)
        if i >= 0:
            return path[:i + len(ext) - 1], path[i + len(ext):] or "/"
    if path.lower().endswith((".h5", ".hdf5")):
        raise BenchError(f"name the dataset inside the HDF5 file: {path}:/dataset")
    return None


def _open_h5(file: str, dataset: str) -> Source:
    h5py = _need("h5py", "HDF5 input")
    if not os.path.exists(file):
        raise BenchError(f"no such file: {file}")
    try:
        f = h5py.File(file, "r")
    except OSError as e:
        raise BenchError(f"cannot open {file} as HDF5: {e}") from None
    if dataset not in f or not isinstance(f[dataset], h5py.Dataset):
        names = []
        f.visititems(lambda n, o: names.append("/" + n) if isinstance(o, h5py.Dataset) else None)
        raise BenchError(f"{file} has no dataset {dataset!r}; datasets: {', '.join(names[:10]) or 'none'}")
    ds = f[dataset]
    return Source(ds, f"{file}:{dataset} (HDF5)", tuple(ds.chunks) if ds.chunks else None)


def _open_tiff(path: str) -> Source:
    tifffile = _need("tifffile", "TIFF input")
    try:
        a = tifffile.memmap(path, mode="r")   # no copy for uncompressed, contiguous files
    except Exception:  # noqa: BLE001 -- tifffile raises ValueError and others for files it cannot map
        try:
            a = tifffile.imread(path)
        except Exception as e:  # noqa: BLE001 -- any failure means: not a TIFF we can read
            raise BenchError(f"cannot read {path} as TIFF: {e}") from None
    return Source(a, f"{path} (TIFF)", None)


def _open_zarr(path: str, level: int | None) -> Source:
    import zarr

    try:
        node = zarr.open(path, mode="r")
    except Exception as e:  # noqa: BLE001 -- zarr raises several types for a non-zarr directory
        raise BenchError(f"cannot open {path} as zarr: {e}") from None
    if isinstance(node, zarr.Array):
        if level is not None:
            raise BenchError(f"--level applies to an OME-Zarr image group; {path} is an array")
        return Source(node, f"{path} (zarr array)", _zarr_chunks(node))
    attrs = node.attrs.asdict()
    multiscales = (attrs.get("ome") or {}).get("multiscales") or attrs.get("multiscales")
    if not multiscales:
        arrays = sorted(k for k, _ in node.arrays())
        raise BenchError(f"{path} is a zarr group without OME-Zarr multiscales; "
                         f"give one array: {', '.join(os.path.join(path, a) for a in arrays[:5]) or 'no arrays'}")
    datasets = multiscales[0].get("datasets") or []
    lv = 0 if level is None else level
    if not 0 <= lv < len(datasets):
        raise BenchError(f"--level {lv} is out of range: {path} has levels 0..{len(datasets) - 1}")
    sub = datasets[lv]["path"]
    arr = node[sub]
    return Source(arr, f"{path} level {lv} ({sub}, OME-Zarr)", _zarr_chunks(arr))


def _zarr_chunks(arr) -> tuple[int, ...]:
    # For a sharded array zarr's .chunks is the inner chunk: what the codecs see.
    return tuple(arr.chunks)


def _need(module: str, what: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise BenchError(f"{what} needs {module}: pip install 'omezarr_fast[cli]'") from None


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
