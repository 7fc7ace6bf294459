"""Upgrade an OME-Zarr 0.4 hierarchy (zarr v2) to 0.5 (zarr v3), arrays included.

Every group and array under the source is rewritten: images and their levels, labels,
plate/well fields, bioformats2raw series.  Arrays become zarr v3 arrays with
``dimension_names`` (the axis names of the multiscale that lists them), optionally with
new chunks and shards, re-encoded with the chosen codec; the pyramid levels are copied
as they are (nothing is downsampled again).  Group metadata goes through
:func:`omezarr_fast.ngff.upgrade_attributes` and is written last, deepest groups first,
the root at the very end, so an interrupted upgrade does not look like a finished one.

Arrays are copied block by block (blocks aligned to the new shards and the old chunks,
about 64 MiB), the write of one block overlapping the read of the next: memory stays
at a few blocks whatever the image size.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import zarr

from omezarr_fast import ngff
from omezarr_fast._background import Background
from omezarr_fast._util import progress as progress_display
from omezarr_fast.config import enabled
from omezarr_fast.native import ChunkCodec
from omezarr_fast.ome import objects
from omezarr_fast.pipeline.core import array_plan
from omezarr_fast.pipeline.plan import v2_compressor_json
from omezarr_fast.pyramid.layout import compressors, default_chunks, default_shards, level_layout
from omezarr_fast.store import Location, location

__all__ = ["upgrade_path"]

BLOCK_BYTES = 64 << 20
_V2_FILES = (".zgroup", ".zattrs", ".zarray", ".zmetadata")


def _walk(root: Location):
    """(relative path, kind, axes or None) of every zarr node under ``root``, parents first.

    kind is "group", "array" or "file" (a plain file inside a group, such as
    bioformats2raw's ``OME/METADATA.ome.xml``: copied as it is); symlinks are not
    followed (they could leave the tree)."""
    axes_of: dict[str, list[ngff.Axis]] = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        here = root.child(rel) if rel else root
        here.check()
        if here.exists_key("zarr.json"):
            raise ValueError(f"{here}: a zarr v3 node; the source must be OME-Zarr 0.4 (zarr v2)")
        if here.exists_key(".zarray"):
            yield rel, "array", axes_of.get(rel)
            continue
        if not (here.exists_key(".zgroup") or here.exists_key(".zattrs")):
            continue
        attrs = here.attributes()
        if ngff.detect_version(attrs) not in (None, "0.4"):
            raise ValueError(f"{here}: OME-Zarr {ngff.detect_version(attrs)} metadata; "
                             "the source must be OME-Zarr 0.4")
        meta = ngff.parse_attributes(attrs) if ngff.detect_version(attrs) else None
        for ms in (meta.multiscales or []) if meta else []:
            for ds in ms.datasets:
                ngff.check_relative_path(ds.path, "multiscales.datasets.path")
                axes_of[f"{rel}/{ds.path}" if rel else ds.path] = ms.axes
        yield rel, "group", None
        dirs, files = here.entries() if here.can_list else _referenced(here, meta)
        for f in files:
            if f not in _V2_FILES:
                yield (f"{rel}/{f}" if rel else f), "file", None
        stack.extend(f"{rel}/{d}" if rel else d for d in sorted(dirs, reverse=True))


def _referenced(here: Location, meta) -> tuple[list[str], list[str]]:
    """``(groups and arrays, files)`` below a group whose keys cannot be listed (plain HTTP):
    what its OME metadata names (levels, labels, wells, fields, bioformats2raw series and
    OME-XML)."""
    dirs: list[str] = []
    files: list[str] = []
    if meta is not None:
        for ms in meta.multiscales or []:
            dirs += [ds.path for ds in ms.datasets]
        if meta.multiscales and here.child("labels").is_node():
            dirs.append("labels")
        dirs += list(meta.labels or [])
        if meta.plate is not None:
            dirs += [w.path for w in meta.plate.wells]
        if meta.well is not None:
            dirs += [im.path for im in meta.well.images]
        if meta.bioformats2raw_layout is not None:   # series 0, 1, ... (OME lists the same)
            if here.child("OME").is_node():
                dirs.append("OME")
            i = 0
            while here.child(str(i)).is_node():
                dirs.append(str(i))
                i += 1
    if here.name == "OME" and here.exists_key("METADATA.ome.xml"):
        files.append("METADATA.ome.xml")
    return list(dict.fromkeys(dirs)), files


def _per_array(spec, names, shape, base, what, rel):
    """A chunk or shard shape for one array from ``spec``: a sequence (one per dimension) or
    a mapping by axis name (axes not named keep ``base``)."""
    if isinstance(spec, Mapping):
        if names is None:
            return tuple(base)
        return tuple(int(spec.get(n, b)) for n, b in zip(names, base))
    spec = [int(x) for x in spec]
    if len(spec) != len(shape):
        raise ValueError(f"{what} has {len(spec)} entries; array {rel or '.'!r} has "
                         f"{len(shape)} dimensions (give a mapping by axis name instead)")
    return tuple(spec)


def _layout(src: zarr.Array, rel: str, axes, chunks, shards):
    shape, dtype = tuple(src.shape), src.dtype
    names = [a.name for a in axes] if axes is not None else None
    spatial = [a.type == "space" for a in axes] if axes is not None else [True] * len(shape)
    if chunks is None:
        c = tuple(src.chunks)
    elif isinstance(chunks, str):
        c = default_chunks(shape, dtype, spatial)
    else:
        c = _per_array(chunks, names, shape, src.chunks, "chunks", rel)
    if any(x < 1 for x in c):
        raise ValueError(f"chunks must be positive, got {c} for array {rel or '.'!r}")
    if shards is None:
        s = None
    elif isinstance(shards, str):
        s = default_shards(shape, dtype, c, spatial)
    else:
        s = _per_array(shards, names, shape, c, "shards", rel)
        # Chunks the caller chose must divide the shards; kept or automatic chunks differ
        # between arrays, so the shards are rounded down to their multiples instead.
        if chunks is not None and not isinstance(chunks, str) and any(x % y for x, y in zip(s, c)):
            raise ValueError(f"shards {s} must be multiples of chunks {c} on every axis "
                             f"(array {rel or '.'!r})")
    if chunks is not None:  # clipped to the array, as write_image's levels
        c = level_layout(shape, c, None)[0]
    if s is not None:
        s = tuple(max(ch, min(sh // ch * ch, -(-n // ch) * ch)) for sh, ch, n in zip(s, c, shape))
    return c, s


def copy_block_shape(shape, unit, src_chunks, itemsize):
    """Block shape: a multiple of the write unit (and, when affordable, of the source
    chunks, so none is decoded twice), grown along the slowest axes to ~BLOCK_BYTES."""
    both = [min(math.lcm(u, c), max(n, 1)) for u, c, n in zip(unit, src_chunks, shape)]
    both = [-(-b // u) * u for b, u in zip(both, unit)]
    block = both if math.prod(both) * itemsize <= 2 * BLOCK_BYTES else list(unit)
    for d in range(len(block)):
        while math.prod(block) * itemsize * 2 <= BLOCK_BYTES and block[d] < shape[d]:
            block[d] *= 2
    return block


def _copy(src: zarr.Array, dst: zarr.Array, unit, bar) -> None:
    shape = tuple(src.shape)
    if math.prod(shape) == 0:
        return
    block = copy_block_shape(shape, unit, src.chunks, src.dtype.itemsize)
    counts = [-(-n // b) for n, b in zip(shape, block)]
    pending = None

    def write(sel, data):
        dst[sel] = data

    try:
        for idx in np.ndindex(*counts):
            sel = tuple(slice(i * b, min((i + 1) * b, n)) for i, b, n in zip(idx, block, shape))
            data = src[sel]
            if pending is not None:
                pending.result()
            pending = Background(write, sel, data)
            if bar is not None:
                bar.advance()
        if pending is not None:
            pending.result()
            pending = None
    finally:
        if pending is not None:  # an error on this side: do not leave a write running
            pending.join()


def _count_blocks(src: zarr.Array, unit) -> int:
    shape = tuple(src.shape)
    if math.prod(shape) == 0:
        return 0
    block = copy_block_shape(shape, unit, src.chunks, src.dtype.itemsize)
    return math.prod(-(-n // b) for n, b in zip(shape, block))


def _kept_codec(zarray: Mapping, dtype: np.dtype):
    """``(compressors, raw)`` for codec="keep": the zarr v3 compressor equal to this v2
    array's (None for none), and whether its encoded chunks are valid v3 chunks as they are
    (no filters, C order, little-endian or single-byte dtype); zstd-3 and False when v3
    has no such codec."""
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

    raw = (not zarray.get("filters") and zarray.get("order", "C") == "C"
           and dtype.kind in "biuf" and dtype.byteorder != ">")
    comp = zarray.get("compressor")
    if comp is None:
        return None, raw
    json = v2_compressor_json(comp, dtype)  # the pipeline's own v2 -> v3 map
    # zarr v3's own codecs only: numcodecs.zlib/lz4 (and anything else) become zstd-3
    cls = None if isinstance(json, str) else \
        {"zstd": ZstdCodec, "gzip": GzipCodec, "blosc": BloscCodec}.get(json["name"])
    if cls is not None:
        try:
            return cls(**json["configuration"]), raw
        except (TypeError, ValueError):  # a configuration v3 does not accept
            pass
    return compressors("zstd", None, 3), False


def _copy_raw(src: zarr.Array, src_loc: Location, dst: zarr.Array, dst_loc: Location, bar) -> None:
    """Copy the encoded chunks of ``src`` (v2) into ``dst`` (v3, same chunks and codec)
    without decoding them: chunk objects as they are, or gathered into shards by the
    shard assembler of ``dst``'s native plan (:func:`_assembler`).  Through the store API,
    so between any two locations; many requests in flight on object stores."""
    shape, chunks = tuple(src.shape), tuple(src.chunks)
    grid = [-(-n // c) for n, c in zip(shape, chunks)]
    shards = dst.shards
    # Chunks are read under safepath's rule (local), refused above what a chunk can hold.
    bound = ChunkCodec([c.to_dict() for c in dst.compressors], chunks, src.dtype).read_bound
    if shards is None:
        batch: list[tuple[int, ...]] = []

        def flush():
            data = objects.read(src_loc, [src.metadata.encode_chunk_key(i) for i in batch], bound)
            objects.write(dst_loc, [(dst.metadata.encode_chunk_key(i), d)
                                    for i, d in zip(batch, data) if d is not None])
            if bar is not None:
                bar.advance(len(batch))
            batch.clear()

        for idx in np.ndindex(*grid):
            batch.append(idx)
            if len(batch) == objects.BATCH:
                flush()
        if batch:
            flush()
        return
    assemble = _assembler(dst)
    per = [s // c for s, c in zip(shards, chunks)]
    for sidx in np.ndindex(*[-(-n // s) for n, s in zip(shape, shards)]):
        inner = [tuple(a * p + i for a, p, i in zip(sidx, per, ii)) for ii in np.ndindex(*per)]
        inside = [all(i < g for i, g in zip(idx, grid)) for idx in inner]
        keys = [src.metadata.encode_chunk_key(idx) for idx, ok in zip(inner, inside) if ok]
        got = iter(objects.read(src_loc, keys, bound))
        # None: never written, the fill value, empty in the shard
        parts: list[bytes | None] = [next(got) if ok else None for ok in inside]
        shard = assemble(parts)
        if shard is not None:
            objects.write(dst_loc, [(dst.metadata.encode_chunk_key(sidx), shard)])
        if bar is not None:
            bar.advance()


def _assembler(dst: zarr.Array):
    """``assemble(parts) -> shard bytes or None (all empty)``, ``parts`` the encoded inner
    chunks of one shard in C order (None: empty).  C's ``ozf_shard_assemble`` through the
    ShardKernel of ``dst``'s plan, which knows its index location, checksum and the inner
    chunk order zarr writes."""
    plan = array_plan(dst)
    if isinstance(plan, str) or plan.shard is None:
        raise ValueError(f"upgrade: {dst.path!r} has no native sharding plan ({plan})")
    return plan.shard.assemble


def _raw_units(arr: zarr.Array, shards) -> int:
    unit = shards if shards is not None else arr.chunks
    return math.prod(-(-n // u) for n, u in zip(arr.shape, unit))


def upgrade_path(src, dst, *, chunks=None, shards=None, codec="keep", clevel=None,
                 overwrite=False, validate=True, progress=None, storage_options=None):
    """Rewrite the OME-Zarr 0.4 hierarchy at ``src`` as OME-Zarr 0.5 at ``dst``; returns
    ``dst``. Pyramid levels are copied as they are (no downsampling).

    chunks: None keeps each array's chunks; "auto" picks ~1 MiB chunks (as write_image);
        a sequence (one entry per dimension, every array must have that many) or a mapping
        by axis name (e.g. ``{"z": 32, "y": 256, "x": 256}``; other axes keep theirs).
    shards: None writes no sharding; "auto" picks ~32 MiB shards; a sequence or a mapping
        by axis name (axes not named get one chunk per shard). With chunks given, shards
        must be multiples of them; with chunks kept or "auto", each array's shards are
        rounded down to multiples of its chunks (at least one chunk). Chunks and shards
        are clipped to each array's size, so lower pyramid levels get smaller ones.
    codec, clevel: "keep" (default): each array keeps its compressor where zarr v3 has it
        (zstd, gzip, blosc, none; others become zstd-3), and when its chunks are kept too
        the encoded chunks are copied without decoding (gathered into shards if asked),
        so the upgrade runs at file-copy speed. Or "zstd" (level 3), "gzip", "blosc" or
        None to re-encode everything, as in write_image.
    overwrite: replace an existing ``dst`` (otherwise FileExistsError).
    validate: check ``src`` with :func:`omezarr_fast.ngff.validate_path` first (errors, not
        warnings, stop the upgrade before anything is written) and ``dst`` at the end.
    progress: None = a progress bar on a terminal, True/False to force.
    src, dst, storage_options: directories, URLs or zarr stores (see
        :func:`omezarr_fast.open_image`), e.g. a local 0.4 image upgraded straight into S3;
        ``storage_options`` apply to both URLs.
    """
    src_loc = location(src, storage_options=storage_options).rooted()
    dst_loc = location(dst, storage_options=storage_options).rooted()
    src_path = src_loc.url
    if src_loc.is_local and not src_loc.local_path.is_dir() or \
            not src_loc.is_local and not src_loc.exists():
        raise FileNotFoundError(f"{src_path}: no such directory")
    try:
        attrs = src_loc.attributes()
    except FileNotFoundError:
        raise ValueError(f"{src_path}: not a zarr group (no .zgroup/.zattrs)") from None
    version = ngff.detect_version(attrs)
    if version != "0.4":
        found = "no OME-Zarr metadata" if version is None else f"OME-Zarr {version}"
        raise ValueError(f"{src_path}: can only upgrade OME-Zarr 0.4, found {found}")
    if _overlap(src_loc, dst_loc):
        raise ValueError(f"dst {dst_loc} must not be src or lie inside or above it")
    dst_loc.require_writable()
    for name, spec in (("chunks", chunks), ("shards", shards)):
        if isinstance(spec, str) and spec != "auto":
            raise ValueError(f"{name} must be None, 'auto', a sequence or a mapping, got {spec!r}")
    if validate:
        res = src_loc.validate()
        if not res:
            raise ValueError(f"{src_path} is not valid OME-Zarr 0.4: "
                             f"{res.message.splitlines()[0]}")
    keep = codec == "keep"
    chosen = None if keep else compressors(codec, clevel, 3)
    nodes = list(_walk(src_loc))

    # Everything that can fail on the input is worked out before dst is created.
    plans = []
    groups = []
    copies = []
    with enabled():
        for rel, kind, axes in nodes:
            here = src_loc.child(rel) if rel else src_loc
            if kind == "file":
                copies.append(rel)
                continue
            if kind == "group":
                a = here.attributes()
                groups.append((rel, ngff.upgrade_attributes(a) if ngff.detect_version(a) else a))
                continue
            arr = zarr.open_array(here.open(), mode="r", zarr_format=2)
            if axes is not None and len(axes) != arr.ndim:
                raise ValueError(f"{here}: {arr.ndim} dimensions for {len(axes)} axes")
            c, s = _layout(arr, rel, axes, chunks, shards)
            comp, raw = chosen, False
            if keep:
                zarray = here.node()[3]
                comp, raw = _kept_codec(zarray, np.dtype(arr.dtype))
                raw = raw and c == tuple(arr.chunks)
            plans.append((rel, arr, axes, c, s, comp, raw))

        dst_loc.prepare(overwrite)
        # A failure leaves dst without OME metadata (written last): not mistaken for an image.
        _write(src_loc, dst_loc, groups, copies, plans, progress)
    if validate:
        res = dst_loc.validate()
        if not res:
            raise ValueError(f"{dst_loc}: the upgraded hierarchy does not validate: "
                             f"{res.message.splitlines()[0]}")
    return dst_loc.public()


def _overlap(a: Location, b: Location) -> bool:
    """Whether one location is the other or lies inside it."""
    if a.is_local and b.is_local:
        ra, rb = a.local_path.resolve(), b.local_path.resolve()
        return ra == rb or ra in rb.parents or rb in ra.parents
    if a.is_local or b.is_local:
        return False
    ua, ub = a.url.rstrip("/") + "/", b.url.rstrip("/") + "/"
    return ua.startswith(ub) or ub.startswith(ua)


def _write(src_loc: Location, root: Location, groups, copies, plans, progress) -> None:
    """Create ``root`` and everything in it from the checked plans; metadata last."""
    out = zarr.open_group(root.open(), mode="w-", zarr_format=3)
    for rel, _ in groups:
        if rel:
            out.require_group(rel)
    objects.write(root, [(rel, d) for rel, d in zip(copies, objects.read(src_loc, copies, None))
                         if d is not None])
    total = sum(_raw_units(arr, s) if raw else _count_blocks(arr, s or c)
                for _, arr, _, c, s, _, raw in plans)
    bar = progress_display(progress, total, "upgrading to OME-Zarr 0.5")
    try:
        for rel, arr, axes, c, s, comp, raw in plans:
            fill = arr.fill_value if arr.fill_value is not None else 0
            new = out.create_array(
                rel, shape=arr.shape, dtype=arr.dtype, chunks=c, shards=s,
                compressors=comp, fill_value=fill,
                dimension_names=[a.name for a in axes] if axes is not None else None,
                attributes=dict(arr.attrs))
            if raw:
                _copy_raw(arr, src_loc.child(rel) if rel else src_loc, new,
                          root.child(rel) if rel else root, bar)
            else:
                _copy(arr, new, s or c, bar)
    finally:
        if bar is not None:
            bar.close()
    # Metadata last, deepest group first, the root at the very end.
    for rel, a in sorted(groups, key=lambda g: -g[0].count("/") - bool(g[0])):
        group = out[rel] if rel else out
        group.attrs.put(a)

