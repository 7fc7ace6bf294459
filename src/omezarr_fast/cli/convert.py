"""``omezarr-fast convert``: TIFF, HDF5, .npy or (OME-)Zarr to an OME-Zarr image with a pyramid."""
from __future__ import annotations

import argparse

from omezarr_fast.cli.args import PROG, UserError, floats, int_list, pyramid_options


def register_convert(sub) -> None:
    p = sub.add_parser(
        "convert", help="write TIFF, HDF5, .npy or (OME-)Zarr as an OME-Zarr image with a pyramid",
        description="Convert INPUT to an OME-Zarr image at OUTPUT (0.5: zarr v3, sharded, zstd-3 by "
                    "default) with a multiscale pyramid, streaming shard by shard. INPUT: .tif/.tiff "
                    "(tifffile), file.h5:/dataset (h5py), .npy, a zarr array, or an OME-Zarr 0.4/0.5 "
                    "image (its axes, pixel sizes, units and name are kept, and its label images are "
                    "copied with their colors, properties and source, their pyramids rebuilt to "
                    "match). --labels attaches label images from files. To move a 0.4 image to 0.5 "
                    f"keeping its levels as they are, use '{PROG} upgrade'.",
        epilog="examples:\n"
               f"  {PROG} convert stack.tif out.ome.zarr --axes zyx --scale 2,0.5,0.5 --units micrometer\n"
               f"  {PROG} convert old_v04.ome.zarr new.ome.zarr\n"
               f"  {PROG} convert stack.tif out.ome.zarr --labels cells=cells.tif --labels nuclei=seg.h5:/nuclei\n"
               f"  {PROG} convert data.h5:/raw out.ome.zarr --chunks 32,128,128 --shards 64,1024,1024",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT")
    p.add_argument("output", metavar="OUTPUT")
    p.add_argument("--axes", help="axis names, e.g. tczyx (default by ndim: yx, zyx, czyx, tczyx)")
    p.add_argument("--scale", help="level-0 pixel size per axis, comma-separated")
    p.add_argument("--units", help="one unit for every space axis (e.g. micrometer), or one per axis "
                                   "comma-separated (empty for none)")
    p.add_argument("--chunks", type=int_list, help="inner chunk shape (default about 1 MiB)")
    p.add_argument("--shards", type=int_list, help="shard shape, a multiple of the chunks (default ~32 MiB)")
    p.add_argument("--version", choices=("0.4", "0.5"), default="0.5", dest="ngff_version",
                   help="OME-Zarr version to write (default 0.5)")
    p.add_argument("--name", help="multiscale name (default: the input's, else 'image')")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--labels", action="append", default=[], metavar="NAME=FILE",
                   help="add label image NAME from FILE (integer .tif, .npy, file.h5:/dataset, zarr "
                        "array or OME-Zarr label image) shaped like the image, or 1 on some axes; "
                        "repeatable")
    p.add_argument("--no-labels", action="store_true",
                   help="do not copy the label images of an OME-Zarr INPUT")
    pyramid_options(p)
    p.set_defaults(func=cmd_convert)


def cmd_convert(args) -> int:
    from pathlib import Path

    import numpy as np

    from omezarr_fast import ngff
    from omezarr_fast.bench.sampling import open_input
    from omezarr_fast.ome.image import image_layout, open_image, write_image

    kw = {}
    src = Path(args.input)
    img = None
    extra = []
    for item in args.labels:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise UserError(f"--labels: expected NAME=FILE, got {item!r}")
        if name in (n for n, _ in extra):
            raise UserError(f"--labels: label image {name!r} is given twice")
        extra.append((name, file))
    if src.is_dir() and ngff.detect_version(_attrs_or_empty(src)):
        img = open_image(src)
        data = img.levels[0]
        kw = image_layout(img)
        if not args.no_labels:
            for name in img.labels:  # opened (and validated) before anything is written
                img.label(name)
        clash = {n for n, _ in extra} & set(img.labels) if not args.no_labels else set()
        if clash:
            raise UserError(f"--labels {min(clash)}: {args.input} already has a label image "
                            "of that name (use --no-labels to drop the input's labels)")
    else:
        data = open_input(args.input).array
    ndim = len(data.shape)
    if args.axes:
        kw["axes"] = args.axes
        kw.pop("scale", None), kw.pop("units", None), kw.pop("translation", None)
    axes = kw.get("axes") or {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}.get(ndim)
    if axes is None:
        raise UserError(f"{args.input} has {ndim} dimensions; OME-Zarr images have 2 to 5")
    if args.scale:
        kw["scale"] = floats(args.scale, "scale")
    if args.units:
        parts = args.units.split(",")
        if len(parts) == 1:
            kw["units"] = {a: parts[0] for a in axes if a in "zyx"}
        else:
            kw["units"] = [u or None for u in parts]
    if args.name:
        kw["name"] = args.name
    # Label files are opened and checked before anything is written.
    from omezarr_fast.ome.labels import open_label_source

    sources = []
    for name, file in extra:
        if "/" in name or name in (".", ".."):
            raise UserError(f"--labels {name}={file}: NAME must be a single path component")
        array, image_label = open_label_source(file)
        shape, dtype = tuple(array.shape), np.dtype(array.dtype)
        if len(shape) != ndim or any(n not in (m, 1) for n, m in zip(shape, data.shape)):
            raise UserError(f"--labels {name}={file}: shape {shape} does not match the image's "
                            f"{tuple(data.shape)} (each dimension equal, or 1)")
        if dtype.kind not in "biu":
            raise UserError(f"--labels {name}={file}: labels need an integer dtype, got {dtype}")
        sources.append((name, array, image_label))
    method = args.method or "mean"
    codec = None if args.codec == "none" else args.codec
    progress = False if args.no_progress else None
    write_image(data, args.output, **kw, chunks=args.chunks, shards=args.shards, codec=codec,
                clevel=args.clevel, levels=args.levels, min_size=args.min_size, method=method,
                factors=args.factors, version=args.ngff_version, overwrite=args.overwrite,
                progress=progress)
    labels = []
    if img is not None and not args.no_labels:
        from omezarr_fast.ome.labels import copy_labels

        labels = copy_labels(img, args.output, codec=codec, clevel=args.clevel, progress=progress)
    if sources:
        from omezarr_fast.ome.labels import write_labels

        for name, array, image_label in sources:
            write_labels(array, args.output, name, image_label=image_label, codec=codec,
                         clevel=args.clevel, progress=progress)
            labels.append(name)
    out = open_image(args.output)
    print(f"{args.output}: OME-Zarr {out.version}, {len(out.levels)} levels, "
          f"shapes {', '.join(str(a.shape) for a in out.levels)}"
          + (f"; labels {', '.join(labels)}" if labels else ""))
    return 0


def _attrs_or_empty(path):
    from omezarr_fast import ngff

    try:
        return ngff.read_attributes(path)
    except (ValueError, OSError):
        return {}
