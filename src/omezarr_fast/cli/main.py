"""The ``omezarr-fast`` command: the parser and the dispatch.

Each subcommand is a module of this package with a ``register_<name>(subparsers)``
function that adds its parser and sets ``func`` (``cmd_<name>``); ``main`` parses and
dispatches.  Subcommands are thin: they parse arguments and call the library's API.
User errors (bad input, unknown codec, unreadable file) print one line on stderr and
exit with 2.
"""
from __future__ import annotations

import argparse
import os
import sys

from omezarr_fast._version import __version__
from omezarr_fast.cli import bench, convert, info, pyramid, upgrade, validate
from omezarr_fast.cli.args import PROG, UserError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Fast zarr v3 / OME-Zarr tools.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    bench.register_bench(sub)
    info.register_info(sub)
    validate.register_validate(sub)
    convert.register_convert(sub)
    pyramid.register_pyramid(sub)
    upgrade.register_upgrade(sub)
    return parser


def _stdout_closed() -> int:
    """The reader of our output went away (``omezarr-fast info x | head``): stop quietly, as
    a Unix tool killed by SIGPIPE would (status 128 + 13), with no error message."""
    # Python flushes stdout again at exit: point it at /dev/null so that cannot fail too.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from omezarr_fast.bench.errors import BenchError
    from omezarr_fast.errors import OutputExistsError

    try:
        try:
            return args.func(args)
        finally:
            sys.stdout.flush()  # a closed pipe shows here when the output was buffered
    except BrokenPipeError:
        return _stdout_closed()
    except OutputExistsError as e:  # the API's message says overwrite=True
        print(f"{PROG} {args.command}: error: {e.path} already exists; add --overwrite to replace it",
              file=sys.stderr)
        return 2
    except (BenchError, UserError, ValueError, TypeError, KeyError, FileExistsError) as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file we could not read or write
        print(f"{PROG} {args.command}: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130


