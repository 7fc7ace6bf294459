"""``omezarr-fast upgrade``: rewrite an OME-Zarr 0.4 hierarchy as 0.5, arrays included."""
from __future__ import annotations

import argparse

from omezarr_fast.cli.args import PROG, layout_arg


def register_upgrade(sub) -> None:
    p = sub.add_parser(
        "upgrade", help="rewrite an OME-Zarr 0.4 hierarchy as 0.5 (arrays too), optionally sharded",
        description="Rewrite the OME-Zarr 0.4 hierarchy at SRC (zarr v2) as OME-Zarr 0.5 at DST "
                    "(zarr v3 with dimension_names): every image level, label image, plate/well "
                    "field and bioformats2raw series, re-encoded and optionally re-chunked and "
                    "sharded. Pyramid levels are copied as they are (no downsampling); with the "
                    "chunks and compressor kept (the default), encoded chunks are copied without "
                    "decoding. SRC is validated first and DST after; metadata is written last.",
        epilog="examples:\n"
               f"  {PROG} upgrade old.ome.zarr new.ome.zarr\n"
               f"  {PROG} upgrade old.ome.zarr new.ome.zarr --chunks auto --shards auto\n"
               f"  {PROG} upgrade plate.zarr plate05.zarr --chunks y=256,x=256 --shards y=2048,x=2048",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", metavar="SRC", help="a directory or URL (s3://, gs://, az://, http(s)://)")
    p.add_argument("dst", metavar="DST", help="a directory or object store URL (s3://, gs://, az://)")
    p.add_argument("--chunks", type=layout_arg, metavar="auto|C,..|AXIS=C,..",
                   help="new inner chunks (default: keep each array's)")
    p.add_argument("--shards", type=layout_arg, metavar="auto|S,..|AXIS=S,..",
                   help="shard shape, multiples of the chunks (default: no sharding)")
    p.add_argument("--codec", choices=("keep", "zstd", "gzip", "blosc", "none"), default="keep",
                   help="keep (default): each array's own compressor (zstd, gzip, blosc; others "
                        "become zstd-3), its encoded chunks copied without decoding when the "
                        "chunks are kept; or re-encode everything with the codec given")
    p.add_argument("--clevel", type=int, help="compression level when re-encoding "
                                              "(default: zstd 3, gzip 6, blosc 5)")
    p.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    p.add_argument("--no-validate", action="store_true",
                   help="skip validating SRC before and DST after")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (off anyway when not a TTY)")
    p.set_defaults(func=cmd_upgrade)


def cmd_upgrade(args) -> int:
    from omezarr_fast.ome.upgrade import upgrade_path

    out = upgrade_path(args.src, args.dst, chunks=args.chunks, shards=args.shards,
                       codec=None if args.codec == "none" else args.codec, clevel=args.clevel,
                       overwrite=args.overwrite, validate=not args.no_validate,
                       progress=False if args.no_progress else None)
    print(f"{out}: OME-Zarr 0.5 (upgraded from {args.src})")
    return 0
