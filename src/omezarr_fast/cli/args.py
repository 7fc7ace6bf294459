"""What the commands share: the program name, user errors and argument parsers."""
from __future__ import annotations

import argparse

PROG = "omezarr-fast"


class UserError(Exception):
    """An error the user can fix: printed as one line, exit code 2."""


def int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def str_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def positive(kind):
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return v
    return parse


def factors(text: str):
    """``2,2,1`` (one per axis) or ``z=1,y=2`` (by axis name; the others keep the default)."""
    parts = [x.strip() for x in text.split(",") if x.strip()]
    try:
        if any("=" in x for x in parts):
            out = {}
            for x in parts:
                name, _, value = x.partition("=")
                out[name.strip()] = int(value)
            return out
        return [int(x) for x in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers per axis (2,2,1) or by axis name (z=1,y=2,x=2), got {text!r}") from None


def pyramid_options(p) -> None:
    p.add_argument("--levels", type=positive(int), help="number of levels, level 0 included "
                   "(default: until every downsampled side fits one chunk)")
    p.add_argument("--min-size", type=positive(int), metavar="N",
                   help="instead of --levels: stop before a downsampled side gets below N")
    p.add_argument("--method", default=None,
                   help="downsampling method: mean (default), mode (labels), median, min, max, stride")
    p.add_argument("--factors", type=factors, metavar="F,..|AXIS=F,..",
                   help="downsampling factor per axis and level, e.g. z=1 to keep z (anisotropic "
                        "stacks) or 1,2,2 (default: 2 on space axes, 1 on t/c)")
    p.add_argument("--codec", type=codec_arg, default="zstd", metavar="NAME|JSON",
                   help="zstd (default), gzip, blosc, none, or a zarr codec chain as JSON, e.g. "
                        "what 'bench' recommends: '[{\"name\":\"zstd\",\"configuration\":"
                        "{\"level\":5}}]' (a file holding it: @codecs.json)")
    p.add_argument("--clevel", type=int, help="compression level of a codec name "
                                              "(default: zstd 3, gzip 6, blosc 5)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (off anyway when not a TTY)")


def codec_arg(text: str):
    """A codec name, "none", a JSON codec chain, or @FILE holding one."""
    import json

    t = text.strip()
    if t.startswith("@"):
        try:
            with open(t[1:], encoding="utf-8") as f:
                t = f.read().strip()
        except OSError as e:
            raise argparse.ArgumentTypeError(f"cannot read {t[1:]}: {e.strerror}") from None
    if t in ("zstd", "gzip", "blosc"):
        return t
    if t == "none":
        return None
    try:
        value = json.loads(t)
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f"expected zstd, gzip, blosc, none or a JSON codec list, got {text!r} ({e})") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(c, dict) and "name" in c for c in value):
        raise argparse.ArgumentTypeError(
            f"a codec chain is a JSON list of objects with a 'name', got {text!r}")
    return value


def floats(text, what):
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise UserError(f"--{what}: expected comma-separated numbers, got {text!r}") from None


def layout_arg(text: str):
    """``auto``, ``1,64,256,256`` (one per dimension) or ``z=64,y=256,x=256`` (by axis name)."""
    if text.strip() == "auto":
        return "auto"
    try:
        return factors(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto', integers per dimension (1,64,256,256) or by axis name "
            f"(z=64,y=256,x=256), got {text!r}") from None
