"""``omezarr-fast validate``: check OME-Zarr metadata against the 0.4/0.5 specification."""
from __future__ import annotations

import sys

from omezarr_fast.cli.args import UserError


def register_validate(sub) -> None:
    p = sub.add_parser(
        "validate", help="check an OME-Zarr 0.4/0.5 hierarchy against the spec (exit 0 valid, 1 invalid)",
        description="Validate the OME-Zarr metadata of PATH and everything under it (arrays included) "
                    "against the 0.4/0.5 specification: the JSON schemas' rules plus the semantic "
                    "rules of the spec text. Exit status 0 when valid, 1 when not, 2 when PATH "
                    "cannot be read.")
    p.add_argument("path", metavar="PATH", help="OME-Zarr group directory (or its zarr.json/.zattrs) "
                   "or URL (s3://, gs://, az://, http(s)://)")
    p.add_argument("--strict", action="store_true",
                   help="also fail where the official strict schemas do (a multiscale's name, type and "
                        "metadata, label colors, plate and acquisition names, 0.4 versions); other "
                        "SHOULDs stay warnings")
    p.add_argument("--json", action="store_true",
                   help='print {"valid": bool, "message": str} (the ngff-spec conformance format) with '
                        'the version and every error and warning as {"node", "path", "message"}')
    p.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    import json

    from omezarr_fast.ome.info import validate_hierarchy

    try:
        result = validate_hierarchy(args.path, strict=args.strict)
    except FileNotFoundError as e:
        raise UserError(str(e)) from None
    if args.json:
        print(json.dumps(result.to_json()))
        return 0 if result.valid else 1
    what = f"OME-Zarr {result.version}" if result.version else "OME-Zarr"
    warnings = f" ({_count(result.warnings, 'warning')})" if result.warnings else ""
    if result.valid:
        print(f"{args.path}: valid {what}{warnings}")
    else:
        print(f"{args.path}: invalid {what}: {_count(result.errors, 'error')}{warnings}",
              file=sys.stderr)
        for e in result.errors:
            print(f"  error: {e}", file=sys.stderr)
    for w in result.warnings:
        print(f"  warning: {w}", file=sys.stderr)
    return 0 if result.valid else 1


def _count(items, what: str) -> str:
    return f"{len(items)} {what}{'s' * (len(items) != 1)}"
