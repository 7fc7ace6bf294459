"""``omezarr-fast convert``: TIFF, HDF5, .npy or (OME-)Zarr to OME-Zarr with a pyramid."""
from __future__ import annotations

import argparse

from omezarr_fast.cli.args import PROG, UserError, floats, int_list, pyramid_options, str_list


def register_convert(sub) -> None:
    p = sub.add_parser(
        "convert", help="write TIFF, HDF5, .npy or (OME-)Zarr as OME-Zarr with a pyramid",
        description="Convert INPUT to OME-Zarr at OUTPUT (0.5: zarr v3, sharded, zstd-3 by "
                    "default) with a multiscale pyramid, streaming shard by shard. INPUT: "
                    ".tif/.tiff (OME-TIFF, ImageJ, pyramidal), file.h5:/dataset, .npy, a zarr "
                    "array, an OME-Zarr 0.4/0.5 image or a bioformats2raw container. Axes are "
                    "named from the file and put in NGFF order (t, c, z, y, x); pixel sizes, "
                    "units, time increment, channel names and colours and the image name are "
                    "kept. Every series of an OME-TIFF is written in the bioformats2raw layout "
                    "(OUTPUT/0, OUTPUT/1, ..., the OME-XML in OUTPUT/OME/METADATA.ome.xml), "
                    "or as an HCS plate when the OME-XML places them in one; --series N writes "
                    "one series as a plain image. An OME-Zarr input keeps its omero block, "
                    "label images and other metadata. Everything is checked before anything "
                    "is written. To move a 0.4 image to 0.5 keeping its levels as they are, "
                    f"use '{PROG} upgrade'.",
        epilog="examples:\n"
               f"  {PROG} convert cells.ome.tif cells.ome.zarr\n"
               f"  {PROG} convert stack.tif out.ome.zarr --axes zyx --scale 2,0.5,0.5 --units um\n"
               f"  {PROG} convert screen.ome.tif one.ome.zarr --series 3 --channel-names DAPI,GFP\n"
               f"  {PROG} convert old_v04.ome.zarr new.ome.zarr\n"
               f"  {PROG} convert stack.tif out.ome.zarr --labels cells=cells.tif --labels nuclei=seg.h5:/nuclei\n"
               f"  {PROG} convert data.h5:/raw out.ome.zarr --codec @recommended.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT")
    p.add_argument("output", metavar="OUTPUT", help="a directory or an object store URL "
                   "(s3://bucket/out.ome.zarr, gs://, az://; credentials from the environment)")
    p.add_argument("--series", type=int, metavar="N",
                   help="convert only series N (0-based) of a multi-series file, as a plain image")
    p.add_argument("--axes", help="the input's axis names in its own order when the file does not "
                                  "name them, e.g. zcyx (written in NGFF order: t, c, z, y, x)")
    p.add_argument("--scale", help="level-0 pixel size per axis in the input's axis order, "
                                   "comma-separated (replaces the file's)")
    p.add_argument("--units", help="one unit for every space axis (um, µm, micron, nm, ...), or one "
                                   "per axis in the input's order, comma-separated (empty for none)")
    p.add_argument("--name", help="image name (default: the file's, else the file name)")
    p.add_argument("--channel-names", type=str_list, metavar="A,B,..", help="channel names")
    p.add_argument("--channel-colors", type=str_list, metavar="RRGGBB,..",
                   help="channel display colours, e.g. 0000FF,00FF00")
    p.add_argument("--chunks", type=int_list, help="inner chunk shape in NGFF order "
                                                   "(default about 1 MiB)")
    p.add_argument("--shards", type=int_list, help="shard shape in NGFF order, a multiple of the "
                                                   "chunks (default ~32 MiB)")
    p.add_argument("--version", choices=("0.4", "0.5"), default="0.5", dest="ngff_version",
                   help="OME-Zarr version to write (default 0.5)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--labels", action="append", default=[], metavar="NAME=FILE",
                   help="add label image NAME from FILE (integer .tif, .npy, file.h5:/dataset, zarr "
                        "array or OME-Zarr label image) shaped like the image, or 1 on some axes "
                        "(missing leading axes are added); repeatable")
    p.add_argument("--no-labels", action="store_true",
                   help="do not copy the label images of an OME-Zarr INPUT")
    pyramid_options(p)
    p.set_defaults(func=cmd_convert)


def _labels(items) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise UserError(f"--labels: expected NAME=FILE, got {item!r}")
        if name in out:
            raise UserError(f"--labels: label image {name!r} is given twice")
        if "/" in name or name in (".", ".."):
            raise UserError(f"--labels {item}: NAME must be a single path component")
        out[name] = file
    return out


def cmd_convert(args) -> int:
    import gc

    import omezarr_fast.ome.convert  # noqa: F401 -- what it runs on, imported before the freeze

    # What exists now (modules, the parser) outlives the conversion: out of the
    # collector's reach, the collections that the many small objects of every shard write
    # trigger no longer walk it (~2% of a conversion's CPU).  Undone at the end, for
    # callers of main() in a longer-lived process.
    gc.freeze()
    try:
        return _run(args)
    finally:
        gc.unfreeze()


def _run(args) -> int:
    from omezarr_fast.ome.convert import convert
    from omezarr_fast.ome.image import open_image

    labels = _labels(args.labels)
    units = None
    if args.units is not None:
        parts = args.units.split(",")
        units = parts[0] if len(parts) == 1 else [u.strip() or None for u in parts]
    result = convert(
        args.input, args.output, series=args.series, axes=args.axes,
        scale=floats(args.scale, "scale") if args.scale else None, units=units, name=args.name,
        channel_names=args.channel_names, channel_colors=args.channel_colors,
        labels=labels or None, copy_labels=not args.no_labels, chunks=args.chunks,
        shards=args.shards, codec=args.codec, clevel=args.clevel, levels=args.levels,
        min_size=args.min_size, method=args.method or "mean", factors=args.factors,
        version=args.ngff_version, overwrite=args.overwrite,
        progress=False if args.no_progress else None)
    if result.layout == "image":
        out = open_image(result.path)
        print(f"{result.path}: OME-Zarr {out.version}, {len(out.levels)} levels, "
              f"shapes {', '.join(str(a.shape) for a in out.levels)}"
              + (f"; labels {', '.join(result.labels)}" if result.labels else ""))
    else:
        what = "HCS plate" if result.layout == "plate" else "bioformats2raw layout"
        print(f"{result.path}: OME-Zarr {args.ngff_version} {what}, {len(result.images)} "
              f"image{'s' if len(result.images) != 1 else ''}: {', '.join(result.images)}")
    for note in result.notes:
        print(f"note: {note}")
    return 0
