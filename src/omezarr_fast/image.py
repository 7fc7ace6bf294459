"""Write and open OME-Zarr multiscale images (0.5 = zarr v3 with sharding, 0.4 = zarr v2).

Writing streams: the source (numpy, dask or zarr array) is read once, in blocks
aligned to level-0 shards; every pyramid level is built from the block in hand
with the native block downsampler (:func:`omezarr_fast.downsample.downsample_block`),
and each shard of each level is written once.

Memory bound: a few source blocks (below) plus, per lower level, the shards that are only
partly filled.  A block is a level-0 shard rounded up to a multiple of
``f**(levels-1)`` on downsampled axes (doubled along the slowest axes only when
that holds fewer than 4 inner chunks per thread: the pipeline encodes the inner
chunks of one write in parallel).  Blocks are visited grouped by the
coarsest level's shard (then the next finer, ...), so with the default power-of-two
chunks and shards at most one pending shard per level exists at a time.  The shard
writes of up to two blocks (one for zarr and dask sources, whose blocks are copies)
run on helper threads while the next block is read and downsampled (so no core idles
through a write's serial tail): about
``2 * (block + block's downsampled outputs + encoded shards) + (levels-1) * shard``
(with 32 MiB shards: ~2 * (32 + 5 + 32) MiB + (levels-1) * 32 MiB at most; a
numpy source's block is a view, not a copy, and a zarr source is read shard by
shard straight into the block).

Level sizes follow the downsampler: ``ceil(n / f)`` per level, ``f`` the axis's factor
(``factors=``; 2 on space axes by default), a partial edge window reduced over the
samples that exist.  Level k has ``scale_k = scale_0 * f**k`` and
``translation_k = translation_0 + (scale_k - scale_0) / 2`` on downsampled axes
(see :func:`omezarr_fast.ngff.pyramid_transforms`).
"""
from __future__ import annotations

import itertools
import math
import shutil
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from omezarr_fast import get_num_threads, ngff, safepath
from omezarr_fast._background import Background
from omezarr_fast.downsample import METHODS, downsample_block, output_shape

__all__ = ["Image", "Plate", "default_chunks", "default_shards", "image_layout", "open_image",
           "open_plate", "rebuild_pyramid", "write_image", "write_labels"]

CHUNK_BYTES = 1 << 20       # inner chunks of about 1 MiB
SHARD_BYTES = 32 << 20      # shards of tens of MiB
CODECS = ("zstd", "gzip", "blosc", None)
_DEFAULT_AXES = {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}


# -- defaults -------------------------------------------------------------------------------

def _pow2_at_least(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


def default_chunks(shape: Sequence[int], dtype, spatial: Sequence[bool]) -> tuple[int, ...]:
    """About 1 MiB inner chunks: 1 on time/channel axes, powers of two on spatial axes
    (the largest halved first), never more than the axis needs."""
    item = np.dtype(dtype).itemsize
    chunk = [min(_pow2_at_least(n), 1 << 30) if sp else 1 for n, sp in zip(shape, spatial)]
    while math.prod(chunk) * item > CHUNK_BYTES:
        d = max(range(len(chunk)), key=lambda i: (chunk[i], -i))  # ties: slowest axis first
        if chunk[d] == 1:
            break
        chunk[d] //= 2
    return tuple(chunk)


def default_shards(shape: Sequence[int], dtype, chunks: Sequence[int],
                   spatial: Sequence[bool]) -> tuple[int, ...]:
    """Shards of tens of MiB: the chunk doubled on spatial axes (smallest first) until the
    shard reaches ~32 MiB or covers the axis."""
    item = np.dtype(dtype).itemsize
    shard = list(chunks)
    while math.prod(shard) * item < SHARD_BYTES:
        grow = [d for d in range(len(shard)) if spatial[d] and shard[d] < shape[d]]
        if not grow:
            break
        d = min(grow, key=lambda i: (shard[i], -i))
        shard[d] *= 2
    return tuple(shard)


def _level_layout(shape, chunks, shards):
    """Chunks and shards of one level: clipped to what the level needs, shard a multiple
    of the chunk."""
    c = tuple(min(ch, _pow2_at_least(n)) for ch, n in zip(chunks, shape))
    if shards is None:
        return c, None
    s = []
    for sh, ch, n in zip(shards, c, shape):
        need = max(ch, -(-n // ch) * ch)
        s.append(max(ch, min(sh // ch * ch, need)))
    return c, tuple(s)


def _num_levels(shape, chunks, factors, min_size) -> int:
    down = [d for d, f in enumerate(factors) if f > 1]
    if not down:
        return 1
    n, s = 1, tuple(shape)
    while True:
        if min_size is None and all(s[d] <= chunks[d] for d in down):
            return n
        nxt = output_shape(s, factors)
        if min_size is not None and min(nxt[d] for d in down) < min_size:
            return n
        if nxt == s:
            return n
        s, n = nxt, n + 1


# -- sources ------------------------------------------------------------------------------

def _as_source(data):
    """(array-like with shape/dtype/__getitem__, reader(slices) -> ndarray)."""
    mod = type(data).__module__
    if mod.startswith("dask"):
        return data, lambda sl: np.asarray(data[sl].compute())
    if isinstance(data, zarr.Array):
        # Read through our pipeline (decoding in our pool, fewer buffers); keep the
        # array as given if it cannot be reopened.
        with suppress(Exception), _pipeline():
            data = zarr.open_array(data.store, path=data.path, mode="r")
        return data, lambda sl: _read_zarr(data, sl)
    if isinstance(data, np.ndarray) or hasattr(data, "__array__") and hasattr(data, "shape"):
        if not isinstance(data, np.ndarray) and not hasattr(data, "dtype"):
            data = np.asarray(data)
        return data, lambda sl: np.asarray(data[sl])
    data = np.asarray(data)
    return data, lambda sl: data[sl]


def _read_zarr(src: zarr.Array, sl: tuple[slice, ...]) -> np.ndarray:
    """Read a region one source shard (or chunk) at a time, each straight into its
    place in one buffer: zarr's read of a large region holds every touched shard's
    bytes and decoded chunks at once, several times the region's size."""
    from zarr.core.buffer.cpu import NDBuffer
    unit = src.shards if src.shards is not None else src.chunks
    out = np.empty(tuple(s.stop - s.start for s in sl), src.dtype)
    ranges = [range(s.start // u * u, s.stop, u) for s, u in zip(sl, unit)]
    for starts in itertools.product(*ranges):
        piece = tuple(slice(max(a, s.start), min(a + u, s.stop))
                      for a, s, u in zip(starts, sl, unit))
        view = out[tuple(slice(p.start - s.start, p.stop - s.start) for p, s in zip(piece, sl))]
        src.get_basic_selection(piece, out=NDBuffer.from_numpy_array(view))
    return out


def _per_axis(value, names, what, default):
    if value is None:
        return [default] * len(names)
    if isinstance(value, Mapping):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"{what}: unknown axis names {sorted(unknown)}")
        return [value.get(n, default) for n in names]
    value = list(value)
    if len(value) != len(names):
        raise ValueError(f"{what} has {len(value)} entries for {len(names)} axes")
    return value


def _resolve_factors(factors, names, shape, axes):
    """Per-axis integer downsampling factors: 2 on space axes longer than 1 and 1 elsewhere,
    overridden by ``factors`` (a sequence parallel to the axes, or a mapping by axis name
    whose missing axes keep the default)."""
    default = [2 if a.type == "space" and n > 1 else 1 for a, n in zip(axes, shape)]
    if factors is None:
        return tuple(default)
    if isinstance(factors, Mapping):
        unknown = set(factors) - set(names)
        if unknown:
            raise ValueError(f"factors: unknown axis names {sorted(unknown)} (axes are {names})")
        given = [factors.get(n, d) for n, d in zip(names, default)]
    elif isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence):
        raise TypeError(f"factors must be a sequence or a mapping by axis name, "
                        f"got {type(factors).__name__}")
    else:
        given = list(factors)
        if len(given) != len(names):
            raise ValueError(f"factors has {len(given)} entries for {len(names)} axes")
    out = []
    for n, a, f in zip(names, axes, given):
        if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 1:
            raise ValueError(f"factors[{n!r}] must be an integer >= 1, got {f!r}")
        if f > 1 and a.type == "channel":
            raise ValueError(f"factors[{n!r}] = {f}: a channel axis cannot be downsampled")
        out.append(int(f))
    return tuple(out)


def _compressors(codec, clevel, zarr_format):
    if codec is None:
        return None
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {CODECS}, got {codec!r}")
    if zarr_format == 3:
        from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec
        if codec == "zstd":
            return ZstdCodec(level=3 if clevel is None else clevel)
        if codec == "gzip":
            return GzipCodec(level=6 if clevel is None else clevel)
        return BloscCodec(cname="zstd", clevel=5 if clevel is None else clevel, shuffle="bitshuffle")
    import numcodecs
    if codec == "zstd":
        return numcodecs.Zstd(level=3 if clevel is None else clevel)
    if codec == "gzip":
        return numcodecs.GZip(level=6 if clevel is None else clevel)
    return numcodecs.Blosc(cname="zstd", clevel=5 if clevel is None else clevel,
                           shuffle=numcodecs.Blosc.BITSHUFFLE)


def _pipeline():
    try:
        from omezarr_fast.config import enabled
    except ImportError:  # pipeline not built in
        return nullcontext()
    return enabled()


def _progress(progress, total, description):
    """A rich progress bar when asked, or by default on a terminal."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    from rich.console import Console
    from rich.progress import Progress
    bar = Progress(transient=True, console=Console(stderr=True))
    bar.start()
    task = bar.add_task(description, total=total)
    return bar, task


# -- streaming pyramid ----------------------------------------------------------------------

class _LevelSink:
    """Collects the regions of one level and writes each shard once, when complete."""

    def __init__(self, array, unit):
        self.array = array
        self.unit = unit  # the write unit: the shard (v3) or a block of chunks (v2)
        self.pending: dict[tuple[int, ...], list] = {}
        self.ready: list | None = None  # a list: writes are queued here, not run

    def _write(self, key, data):
        if self.ready is None:
            self.array[key] = data
        else:
            self.ready.append((self.array, key, data))

    def _box(self, idx):
        start = [i * u for i, u in zip(idx, self.unit)]
        stop = [min(s + u, n) for s, u, n in zip(start, self.unit, self.array.shape)]
        return start, stop

    def put(self, origin, data):
        ends = [o + n for o, n in zip(origin, data.shape)]
        if all(o % u == 0 and (e % u == 0 or e >= n)
               for o, e, u, n in zip(origin, ends, self.unit, self.array.shape)):
            # Whole shards only: one call, so the pipeline encodes them in parallel.
            self._write(tuple(slice(o, min(e, n)) for o, e, n in
                              zip(origin, ends, self.array.shape)), data)
            return
        ranges = [range(o // u, -(-e // u)) for o, e, u in zip(origin, ends, self.unit)]
        for idx in itertools.product(*ranges):
            start, stop = self._box(idx)
            lo = [max(a, o) for a, o in zip(start, origin)]
            hi = [min(b, e) for b, e in zip(stop, ends)]
            src = tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, origin))
            if lo == start and hi == stop:  # the whole shard at once: no copy
                self._write(tuple(slice(a, b) for a, b in zip(start, stop)), data[src])
                continue
            entry = self.pending.get(idx)
            if entry is None:
                shape = [b - a for a, b in zip(start, stop)]
                entry = self.pending[idx] = [np.zeros(shape, data.dtype), 0]
            buf, filled = entry
            buf[tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))] = data[src]
            entry[1] = filled + math.prod(b - a for a, b in zip(lo, hi))
            if entry[1] == buf.size:
                self._write(tuple(slice(a, b) for a, b in zip(start, stop)), buf)
                del self.pending[idx]

    def close(self):
        if self.pending:  # unreachable unless the blocks missed part of the level
            raise RuntimeError(f"internal error: {len(self.pending)} shards left incomplete")


def _malloc_trim():
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


# Freed block-sized buffers stay in the malloc arenas of the threads that freed them
# (zarr's and ours), which grew peak RSS by ~1.5 blocks per thread; glibc's
# malloc_trim hands them back to the OS after every block.
_release_freed_memory = _malloc_trim()


# Blocks whose shard writes may run at once.  A block's writes end in serial steps
# (the last shard's assembly and file write, zarr's per-call overhead) during which
# only one core works; a second block's writes in flight keep the other core
# encoding (numpy input: ~15% faster).  Each costs a block of encoded shards, and
# with a zarr or dask source the block itself, a copy (1 GiB zarr source: peak
# beyond the libraries 20-22% of the image with one in flight, 24-29% with two,
# ~5% slower), so those get one.
_WRITES_IN_FLIGHT = {"view": 2, "copy": 1}


def _write_pyramid(read, shape, dtype, arrays, factors, method, block, progress, in_flight=2):
    nlevels = len(arrays)
    sinks = [_LevelSink(a, u) for a, u in arrays]
    counts = [-(-n // b) for n, b in zip(shape, block)]

    def key(idx):
        # Group blocks by the write unit of the coarsest level, then finer levels, so
        # partly filled shards complete soon (the memory bound in the module docstring).
        origin = [i * b for i, b in zip(idx, block)]
        k = []
        for lvl in range(nlevels - 1, -1, -1):
            f = [fa ** lvl for fa in factors]
            k.append(tuple(o // ff // u for o, ff, u in zip(origin, f, sinks[lvl].unit)))
        return tuple(k), idx

    def run(writes):
        for array, sel, data in writes:
            array[sel] = data

    order = sorted(itertools.product(*(range(c) for c in counts)), key=key)
    bar = _progress(progress, len(order), "writing pyramid")
    # Each shard is written exactly once, so writes of different blocks never touch
    # the same stored object and may run concurrently (each on its own short-lived
    # thread, like the pipeline's store writes; the encoding is on the native pool).
    inflight: deque = deque()
    try:
        for idx in order:
            origin = [i * b for i, b in zip(idx, block)]
            sl = tuple(slice(o, min(o + b, n)) for o, b, n in zip(origin, block, shape))
            # No copy of a numpy source's block: the downsampler and the pipeline take
            # strided views (saves one block of memory and a pass over it).
            data = np.asarray(read(sl))
            if data.dtype != dtype:
                data = data.astype(dtype)
            writes: list = []
            for s in sinks:
                s.ready = writes
            sinks[0].put(origin, data)
            outs = ()
            if nlevels > 1:
                outs = downsample_block(data, factors, nlevels - 1, method,
                                        origin=origin, image_shape=shape)
                for lvl, out in enumerate(outs, start=1):
                    sinks[lvl].put([o // f ** lvl for o, f in zip(origin, factors)], out)
            del data, outs
            while len(inflight) >= in_flight:
                inflight.popleft().result()
                _release_freed_memory()
            if writes:
                inflight.append(Background(run, writes))
            del writes
            if bar:
                bar[0].update(bar[1], advance=1)
        while inflight:
            inflight.popleft().result()
    finally:
        for t in inflight:  # after an error: let the other writes finish first
            t.join()
        if bar:
            bar[0].stop()
    _release_freed_memory()
    for s in sinks:
        s.close()


def _prepare_path(path, overwrite):
    path = Path(path)
    if path.exists():
        if not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return path


def _write_multiscale(group, data, *, names, factors, nlevels, chunks, unit, codec, clevel,
                      method, zarr_format, progress, client=None):
    """Create the level arrays "0".."n-1" in ``group`` and stream ``data`` into them.

    ``unit`` is the level-0 shard (v3) or, for v2 which has no shards, the block of whole
    chunks each write covers."""
    from omezarr_fast.distributed import resolve_client
    client = resolve_client(client, data)
    src, read = _as_source(data)
    shape, dtype = tuple(src.shape), np.dtype(src.dtype)
    compressors = _compressors(codec, clevel, zarr_format)
    arrays, s = [], shape
    for lvl in range(nlevels):
        c, u = _level_layout(s, chunks, unit)
        kw: dict[str, Any] = {"name": str(lvl), "shape": s, "dtype": dtype, "chunks": c,
                              "compressors": compressors, "fill_value": 0}
        if zarr_format == 3:
            kw.update(shards=u, dimension_names=list(names))
        else:
            kw.update(chunk_key_encoding={"name": "v2", "separator": "/"})
        arrays.append((group.create_array(**kw), u))
        s = output_shape(s, factors)
    if math.prod(shape) == 0:
        return
    if client is not None:
        from omezarr_fast.distributed import write_pyramid
        return write_pyramid(client, data, arrays, factors, method, progress)
    # Level-0 block: the write unit rounded up to the cumulative factor, so that
    # downsample_block's alignment rule holds for every block.
    cum = [f ** (nlevels - 1) for f in factors]
    block = [-(-u // c) * c for u, c in zip(arrays[0][1], cum)]
    # The pipeline encodes a write's inner chunks in parallel, so one shard per block
    # keeps every thread busy and memory at one shard; only blocks of very few chunks
    # (small shards) grow until each thread has a few chunks to encode.
    inner = arrays[0][0].chunks
    want = 4 * get_num_threads()
    for d in range(len(block)):
        while math.prod(-(-b // c) for b, c in zip(block, inner)) < want and block[d] < shape[d]:
            block[d] *= 2
    in_flight = _WRITES_IN_FLIGHT["view" if isinstance(src, np.ndarray) else "copy"]
    _write_pyramid(read, shape, dtype, arrays, factors, method, block, progress, in_flight)


def write_image(data, path, *, axes=None, scale=None, units=None, translation=None,
                chunks=None, shards=None, codec="zstd", clevel=None, levels=None,
                min_size=None, method="mean", factors=None, name=None, channel_names=None,
                channel_colors=None, version="0.5", overwrite=False, progress=None,
                client=None):
    """Write ``data`` as an OME-Zarr multiscale image at ``path``; returns the path.

    data: numpy array, dask array or zarr array (read once, block by block), ndim 2-5.
    axes: axis names, e.g. "tczyx" (default by ndim: yx, zyx, czyx, tczyx).
    scale, units, translation: level-0 pixel size, UDUNITS-2 units and offset, per axis
        (a sequence parallel to ``axes`` or a mapping by axis name).
    chunks, shards: level-0 inner chunk and shard shapes (default ~1 MiB and ~32 MiB;
        ``shards`` is ignored for 0.4, which has no sharding). Lower levels use the
        same shapes clipped to their size.
    codec, clevel: "zstd" (level 3), "gzip", "blosc" or None.
    levels / min_size: number of levels (level 0 included), or downsample while the
        smallest downsampled side stays >= min_size; default: until every downsampled
        side fits in one chunk.
    factors: integer downsampling factor per axis and level, a sequence parallel to
        ``axes`` or a mapping by axis name (missing axes keep the default), e.g.
        ``{"z": 1}`` for anisotropic stacks. Default: 2 on space axes longer than 1,
        1 on t/c. Channel axes cannot be downsampled.
    method: a downsampling method of :mod:`omezarr_fast.downsample` ("mean", "mode", ...).
    channel_names, channel_colors: omero rendering metadata for the "c" axis.
    version: "0.5" (zarr v3, sharded) or "0.4" (zarr v2).
    overwrite: replace an existing ``path`` (otherwise FileExistsError).
    progress: None = a progress bar on a terminal, True/False to force.
    client: a ``distributed.Client``: build the pyramid on its cluster, one task per output
        shard region (see :mod:`omezarr_fast.distributed`). None (default): the same when
        ``data`` is a dask array and dask's current scheduler is a distributed client;
        False: always in this process.
    """
    if version not in ("0.4", "0.5"):
        raise ValueError(f"version must be '0.4' or '0.5', got {version!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    src, _ = _as_source(data)
    shape, dtype = tuple(src.shape), np.dtype(src.dtype)
    if not 2 <= len(shape) <= 5:
        raise ValueError(f"data must have 2 to 5 dimensions, got shape {shape}")
    if axes is None:
        axes = _DEFAULT_AXES[len(shape)]
    names = list(axes)
    if len(names) != len(shape):
        raise ValueError(f"axes {axes!r} has {len(names)} names for data of shape {shape}")
    unit_list = _per_axis(units, names, "units", None)
    ax = ngff.make_axes(names, units=unit_list)
    spatial = [a.type == "space" for a in ax]
    scale0 = [float(x) for x in _per_axis(scale, names, "scale", 1.0)]
    trans0 = None if translation is None else [float(x) for x in
                                               _per_axis(translation, names, "translation", 0.0)]
    factors = _resolve_factors(factors, names, shape, ax)
    chunks = tuple(chunks) if chunks is not None else default_chunks(shape, dtype, spatial)
    if len(chunks) != len(shape) or any(int(c) < 1 for c in chunks):
        raise ValueError(f"chunks must be {len(shape)} positive integers, got {chunks}")
    write_unit = tuple(shards) if shards is not None else default_shards(shape, dtype, chunks, spatial)
    if len(write_unit) != len(shape) or any(s % c for s, c in zip(write_unit, chunks)):
        raise ValueError(f"shards {write_unit} must be multiples of chunks {chunks} on every axis")
    if levels is None:
        nlevels = _num_levels(shape, chunks, factors, min_size)
    else:
        nlevels = int(levels)
        if nlevels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        if nlevels > 1 and all(f == 1 for f in factors):
            raise ValueError(f"factors are all 1 (nothing to downsample): levels must be 1, "
                             f"got {levels}")
    ms = ngff.build_multiscale(ax, scale0, [list(factors)] * (nlevels - 1), translation0=trans0,
                               name="image" if name is None else name, method=method)
    omero = None
    if channel_names is not None or channel_colors is not None:
        if "c" not in names:
            raise ValueError("channel_names/channel_colors need a 'c' axis")
        nc = shape[names.index("c")]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            win = (0.0, float(info.max), float(info.min), float(info.max))
        else:
            win = (0.0, 1.0, 0.0, 1.0)
        omero = ngff.build_omero([win] * nc, labels=channel_names, colors=channel_colors)
    attrs = ngff.image_attributes(ms, omero, version=version)
    ngff.validate(attrs, version=version).raise_for_errors()

    path = _prepare_path(path, overwrite)
    zarr_format = 3 if version == "0.5" else 2
    with _pipeline():
        group = zarr.open_group(str(path), mode="w-", zarr_format=zarr_format)
        _write_multiscale(group, data, names=names, factors=factors, nlevels=nlevels,
                          chunks=chunks, unit=write_unit, codec=codec, clevel=clevel,
                          method=method, zarr_format=zarr_format, progress=progress,
                          client=client)
        # Metadata last: an interrupted write does not look like a finished image.
        group.attrs.update(attrs)
    return path


def _image_factors(ms: ngff.Multiscale, shapes) -> tuple[int, ...]:
    """The per-level integer factor of an image written by a constant-factor pyramid."""
    if len(shapes) < 2:
        return tuple(1 for _ in shapes[0])
    f = []
    s0 = ms.datasets[0].transforms.scale
    s1 = ms.datasets[1].transforms.scale
    for a, b in zip(s0, s1):
        r = b / a
        if abs(r - round(r)) > 1e-6 or round(r) < 1:
            raise ValueError("the image's levels are not integer downsamplings of each other")
        f.append(round(r))
    for k in range(1, len(shapes)):
        if tuple(shapes[k]) != output_shape(shapes[k - 1], f):
            raise ValueError("the image's level shapes do not follow one constant factor; "
                             "cannot build matching label levels")
    return tuple(f)


def write_labels(labels, image_path, name, *, colors=None, properties=None, method="mode",
                 chunks=None, shards=None, codec="zstd", clevel=None, overwrite=False,
                 progress=None, image_label=None, client=None):
    """Write ``labels`` (integer array shaped like the image's level 0, or 1 on axes
    such as "c") as label image ``name`` under ``image_path/labels``, with as many
    levels as the image (mode by default).

    colors: {label_value: (r, g, b, a)}; properties: {label_value: {...}}.
    image_label: a whole ``image-label`` (an :class:`omezarr_fast.ngff.ImageLabel` or its
        JSON dict, e.g. copied from another label image) instead of colors/properties.
    client: as for :func:`write_image`.
    """
    img = open_image(image_path)
    src, _ = _as_source(labels)
    dtype = np.dtype(src.dtype)
    if not (np.issubdtype(dtype, np.integer) or dtype == np.bool_):
        raise TypeError(f"labels must have an integer dtype, got {dtype}")
    if dtype == np.bool_:
        labels, dtype = np.asarray(labels, np.uint8), np.dtype(np.uint8)
    shapes = [a.shape for a in img.levels]
    lshape = tuple(src.shape)
    if len(lshape) != len(shapes[0]) or any(n not in (m, 1) for n, m in zip(lshape, shapes[0])):
        raise ValueError(f"labels shape {lshape} does not match image level 0 shape {shapes[0]} "
                         "(each dimension equal to the image's, or 1)")
    ngff.check_relative_path(name, "name")
    if "/" in name:
        raise ValueError(f"name must be a single path component, got {name!r}")
    factors = _image_factors(img.multiscale, shapes)
    nlevels = len(shapes)
    version = img.version
    ms0 = img.multiscale
    spatial = [a.type == "space" for a in ms0.axes]
    chunks = tuple(chunks) if chunks is not None else default_chunks(lshape, dtype, spatial)
    unit = tuple(shards) if shards is not None else default_shards(lshape, dtype, chunks, spatial)
    ds = ms0.datasets[0].transforms
    ms = ngff.build_multiscale(ms0.axes, ds.scale, [list(factors)] * (nlevels - 1),
                               translation0=ds.translation, name=name,
                               method=method)
    if image_label is None:
        image_label = ngff.build_image_label(colors, properties)
    elif colors is not None or properties is not None:
        raise ValueError("give image_label or colors/properties, not both")
    elif isinstance(image_label, Mapping):
        image_label = ngff.ImageLabel.from_dict(image_label)
    attrs = ngff.label_image_attributes(ms, image_label, version=version)
    ngff.validate(attrs, version=version).raise_for_errors()

    root = Path(image_path)
    zarr_format = 3 if version == "0.5" else 2
    with _pipeline():
        labels_group_path = root / "labels"
        existing: list[str] = []
        if labels_group_path.exists():
            try:
                existing = list(ngff.read_metadata(labels_group_path).labels or [])
            except (ValueError, OSError):
                existing = []
            lg = zarr.open_group(str(labels_group_path), mode="a", zarr_format=zarr_format)
        else:
            lg = zarr.open_group(str(labels_group_path), mode="w-", zarr_format=zarr_format)
        _prepare_path(labels_group_path / name, overwrite)
        group = lg.create_group(name)
        _write_multiscale(group, labels, names=[a.name for a in ms0.axes], factors=factors,
                          nlevels=nlevels, chunks=chunks, unit=unit, codec=codec, clevel=clevel,
                          method=method, zarr_format=zarr_format, progress=progress,
                          client=client)
        group.attrs.update(attrs)
        names = existing + ([name] if name not in existing else [])
        lg.attrs.update(ngff.labels_attributes(names, version=version))
    return root / "labels" / name


# -- reading --------------------------------------------------------------------------------

class Image:
    """An OME-Zarr multiscale image opened by :func:`open_image`."""

    def __init__(self, path, attributes, metadata, levels):
        self.path = Path(path)
        self.attributes: dict[str, Any] = attributes
        self.metadata: ngff.OmeAttributes = metadata
        self.multiscale: ngff.Multiscale = metadata.multiscales[0]
        self.levels: list[zarr.Array] = levels

    @property
    def version(self) -> str:
        return self.metadata.version if getattr(self.metadata, "version", None) else \
            ngff.detect_version(self.attributes)

    @property
    def axes(self) -> list[str]:
        return [a.name for a in self.multiscale.axes]

    def level(self, i: int) -> zarr.Array:
        return self.levels[i]

    @property
    def labels(self) -> list[str]:
        p = self.path / "labels"
        if not p.is_dir():
            return []
        try:
            safepath.check_node(self.path, p)
            return list(ngff.read_metadata(p).labels or [])
        except (ValueError, OSError):
            return []

    def label(self, name: str) -> Image:
        if name not in self.labels:
            raise KeyError(f"no label image {name!r} in {self.path} (have {self.labels})")
        safepath.check_node(self.path, self.path / "labels" / name)
        return open_image(self.path / "labels" / name)

    def to_dask(self, level: int = 0):
        """Level ``level`` as a dask array with one task per shard (per chunk for 0.4),
        each reading through omezarr_fast's pipeline (the zarr array pickles with it,
        so this holds in worker processes too)."""
        import dask.array as da
        from dask.base import tokenize

        from omezarr_fast.distributed import absolute
        a = absolute(self.levels[level])
        unit = a.shards if getattr(a, "shards", None) is not None else a.chunks
        return da.from_array(a, chunks=unit, inline_array=True, asarray=False,
                             name=f"omezarr-read-{tokenize(a, unit)}")

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.levels)
        return f"Image({str(self.path)!r}, axes={''.join(self.axes)!r}, levels=[{shapes}])"


def open_image(path, *, validate: bool = True) -> Image:
    """Open an OME-Zarr 0.4/0.5 image: metadata parsed (and validated unless
    ``validate=False``), levels as zarr arrays reading through omezarr_fast's pipeline."""
    path = Path(path)
    safepath.check_node(path, path)
    attrs = ngff.read_attributes(path)
    if validate:
        ngff.validate(attrs).raise_for_errors()
    meta = ngff.parse_attributes(attrs)
    if not meta.multiscales:
        raise ValueError(f"{path}: not a multiscale image (no 'multiscales' metadata)")
    ms = meta.multiscales[0]
    levels = []
    with _pipeline():
        for ds in ms.datasets:
            safepath.check_node(path, path / ds.path)
            levels.append(zarr.open_array(str(path / ds.path), mode="r"))
    return Image(path, attrs, meta, levels)


def image_layout(img: Image) -> dict[str, Any]:
    """``write_image`` keyword arguments that reproduce ``img``'s axes, level-0 pixel size,
    units, translation and name (for conversion and pyramid rebuilding)."""
    ms = img.multiscale
    t = ms.datasets[0].transforms
    scale, translation = list(t.scale), t.translation
    if ms.transforms is not None:  # a multiscale-wide transform folds into level 0
        scale = [a * b for a, b in zip(scale, ms.transforms.scale)]
        if ms.transforms.translation is not None:
            translation = [(translation[i] if translation else 0.0) + ms.transforms.translation[i]
                           for i in range(len(scale))]
    return {"axes": [a.name for a in ms.axes], "scale": scale,
            "units": [a.unit for a in ms.axes], "translation": translation, "name": ms.name}


def rebuild_pyramid(path, *, levels=None, min_size=None, method=None, factors=None,
                    codec="zstd", clevel=None, progress=None) -> Image:
    """Replace every level but 0 of the image at ``path`` with a new pyramid built from
    level 0 (streamed); the level-0 array and other metadata (omero) stay. Label images
    get the same number of levels and factors (with their own method, mode by default).

    factors: per axis (see :func:`write_image`); default: the image's own factors when
    its levels follow one constant factor, else 2 on space axes.

    Level 0 is streamed into a temporary image next to ``path`` too (then dropped): the
    cost of reusing the writer unchanged."""
    img = open_image(path)
    root = Path(path)
    level0 = img.levels[0]
    is_label = img.metadata.image_label is not None
    fallback = "mode" if is_label else "mean"
    if method is None:
        method = img.multiscale.type if img.multiscale.type in METHODS else fallback
    tmp = root.parent / f".{root.name}.pyramid-tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    shards = level0.shards if getattr(level0, "shards", None) is not None else None
    if factors is None and len(img.levels) > 1:
        with suppress(ValueError):  # a broken pyramid: rebuild with the default factors
            factors = _image_factors(img.multiscale, [a.shape for a in img.levels])
    try:
        write_image(level0, tmp, **image_layout(img), chunks=level0.chunks, shards=shards,
                    codec=codec, clevel=clevel, levels=levels, min_size=min_size, method=method,
                    factors=factors, version=img.version, progress=progress)
        new = open_image(tmp)
        new_factors = _image_factors(new.multiscale, [a.shape for a in new.levels])
        # Old levels out, new ones in; level 0 is kept as it was.
        for ds in img.multiscale.datasets[1:]:
            shutil.rmtree(root / ds.path, ignore_errors=True)
        ms = new.multiscale
        ms.datasets[0].path = img.multiscale.datasets[0].path
        for ds in ms.datasets[1:]:
            target = root / ds.path
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(tmp / ds.path), str(target))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    meta = img.metadata
    meta.multiscales = [ms] + list(meta.multiscales[1:])
    attrs = meta.to_dict(img.version)
    ngff.validate(attrs, version=img.version).raise_for_errors()
    with _pipeline():
        group = zarr.open_group(str(root), mode="r+")
        group.attrs.put(attrs)
    if not is_label:
        for name in img.labels:
            rebuild_pyramid(root / "labels" / name, levels=len(ms.datasets),
                            factors=new_factors, codec=codec, clevel=clevel, progress=progress)
    return open_image(root)


class Plate:
    """An HCS plate opened by :func:`open_plate`: ``plate`` metadata, wells by row/column."""

    def __init__(self, path, metadata):
        self.path = Path(path)
        self.metadata: ngff.OmeAttributes = metadata
        self.plate: ngff.Plate = metadata.plate

    @property
    def rows(self) -> list[str]:
        return [r["name"] if isinstance(r, Mapping) else r for r in self.plate.rows]

    @property
    def columns(self) -> list[str]:
        return [c["name"] if isinstance(c, Mapping) else c for c in self.plate.columns]

    @property
    def wells(self) -> list[str]:
        """Well paths, ``"<row>/<column>"``."""
        return [w.path for w in self.plate.wells]

    def fields(self, row: str, column: str) -> list[str]:
        """Field-of-view image paths of one well (relative to the well)."""
        path = f"{row}/{column}"
        if path not in self.wells:
            raise KeyError(f"no well {path!r} in {self.path} (have {self.wells})")
        safepath.check_node(self.path, self.path / path)
        well = ngff.read_metadata(self.path / path).well
        if well is None:
            raise ValueError(f"{self.path / path}: no 'well' metadata")
        return [im.path for im in well.images]

    def image(self, row: str, column: str, field: int = 0) -> Image:
        """The image of field ``field`` (index into the well's images) of a well."""
        fields = self.fields(row, column)
        if not 0 <= field < len(fields):
            raise IndexError(f"well {row}/{column} has fields 0..{len(fields) - 1}, not {field}")
        safepath.check_node(self.path, self.path / row / column / fields[field])
        return open_image(self.path / row / column / fields[field])

    def __repr__(self) -> str:
        return f"Plate({str(self.path)!r}, {len(self.rows)}x{len(self.columns)}, wells={len(self.wells)})"


def open_plate(path, *, validate: bool = True) -> Plate:
    """Open an OME-Zarr HCS plate (metadata parsed and, unless ``validate=False``, validated)."""
    path = Path(path)
    attrs = ngff.read_attributes(path)
    if validate:
        ngff.validate(attrs).raise_for_errors()
    meta = ngff.parse_attributes(attrs)
    if meta.plate is None:
        raise ValueError(f"{path}: not a plate (no 'plate' metadata)")
    return Plate(path, meta)
