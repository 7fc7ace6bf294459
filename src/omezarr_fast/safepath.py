"""The one rule for the files and directories we open (DESIGN.md, "Security").

Data comes from strangers, and a symlink can point anywhere.  So every file and
directory that the OME layer (open_image, info, upgrade) or the native reader opens
must resolve inside the root it was opened at: symlinks that stay inside are
followed, and any that lead out are refused like a ``..`` in metadata.  It must also
be a regular file or a directory: a FIFO would block a reader, and a device such as
``/dev/zero`` is endless while its size reads as 0.

The native reader applies the same rule in C (csrc/fileio.h: ``openat2`` with
``RESOLVE_BENEATH``, a realpath check where that is missing).  This module is the
Python side.  Its functions raise :class:`omezarr_fast.errors.UnsafePathError`, which
is a ``ValueError``, and they depend on nothing but the standard library and
``errors``.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from omezarr_fast.errors import UnsafePathError

__all__ = ["check_inside", "check_node", "open_file"]

# Metadata files of a zarr node, v3 and v2.
_NODE_FILES = ("zarr.json", ".zgroup", ".zarray", ".zattrs")


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def check_inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """``path`` resolved, if it lies inside ``root`` (after resolving both) and is a
    directory, a regular file or missing; otherwise UnsafePathError naming ``path``.

    ``path`` is the path the caller is about to open (absolute, or relative to the
    working directory like ``root``), e.g. ``root / "0"``; it is not joined to root."""
    root_s = os.fspath(root)
    path_s = os.fspath(path)
    real = os.path.realpath(path_s)
    if not _inside(real, os.path.realpath(root_s)):
        raise UnsafePathError(f"{path_s} resolves outside {root_s} (to {real})", path_s)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return Path(real)
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise UnsafePathError(f"{path_s} is neither a regular file nor a directory", path_s)
    return Path(real)


def check_node(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """:func:`check_inside` for a zarr group or array directory and the metadata files
    in it (``zarr.json``, ``.zgroup``, ``.zarray``, ``.zattrs``)."""
    real = check_inside(root, path)
    node = os.fspath(path)
    for name in _NODE_FILES:
        if os.path.lexists(os.path.join(node, name)):
            check_inside(root, os.path.join(node, name))
    return real


def open_file(root: str | os.PathLike[str], path: str | os.PathLike[str],
              max_size: int | None = None) -> BinaryIO | None:
    """``path`` (as for :func:`check_inside`) opened for reading in binary mode, or None
    if it is missing.  UnsafePathError if it resolves outside ``root``, is not
    a regular file, or holds more than ``max_size`` bytes (checked before any byte is
    read)."""
    real = check_inside(root, path)
    try:
        # O_NOFOLLOW: real has no symlink left; one swapped in since is refused.
        # O_NONBLOCK: a FIFO swapped in does not block the open.
        fd = os.open(real, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(f"{path} is not a regular file", os.fspath(path))
        if max_size is not None and st.st_size > max_size:
            raise UnsafePathError(f"{path} holds {st.st_size} bytes, more than the {max_size} it may",
                                  os.fspath(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
