"""``omezarr-fast pyramid``: rebuild the lower levels of an OME-Zarr image from level 0."""
from __future__ import annotations

from omezarr_fast.cli.args import pyramid_options


def register_pyramid(sub) -> None:
    p = sub.add_parser(
        "pyramid", help="rebuild the lower levels of an OME-Zarr image from its level 0",
        description="Replace every level but 0 of the image at PATH with a pyramid streamed from "
                    "level 0 (to add levels, change the method or fix a broken pyramid). Level 0, "
                    "omero metadata and labels are kept.")
    p.add_argument("path", metavar="PATH", help="the image: a directory or an object store URL "
                   "(s3://, gs://, az://)")
    pyramid_options(p)
    p.set_defaults(func=cmd_pyramid)


def cmd_pyramid(args) -> int:
    from omezarr_fast.ome.image import rebuild_pyramid

    img = rebuild_pyramid(args.path, levels=args.levels, min_size=args.min_size, method=args.method,
                          factors=args.factors,
                          codec=None if args.codec == "none" else args.codec, clevel=args.clevel,
                          progress=False if args.no_progress else None)
    print(f"{args.path}: {len(img.levels)} levels, shapes {', '.join(str(a.shape) for a in img.levels)}")
    return 0
