"""``omezarr-fast info``: describe an OME-Zarr hierarchy or a zarr array."""
from __future__ import annotations

from omezarr_fast.cli.args import UserError


def register_info(sub) -> None:
    p = sub.add_parser(
        "info", help="show an OME-Zarr hierarchy: levels, shapes, dtypes, chunks/shards, codecs, sizes",
        description="Describe an OME-Zarr image, label image, plate, well or bioformats2raw container "
                    "(or a plain zarr array): every level's shape, dtype, chunks, shards, codecs, bytes "
                    "on disk and compression ratio, and the labels inside.")
    p.add_argument("path", metavar="PATH", help="OME-Zarr group or zarr array: a directory or a URL "
                   "(s3://, gs://, az://, http(s)://)")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    p.set_defaults(func=cmd_info)


def cmd_info(args) -> int:
    import json

    from omezarr_fast.ome.info import describe, format_description

    try:
        d = describe(args.path)
    except FileNotFoundError as e:
        raise UserError(str(e)) from None
    except ValueError as e:
        raise UserError(str(e).splitlines()[0]) from None
    print(json.dumps(d, indent=2) if args.json else format_description(d))
    return 0
