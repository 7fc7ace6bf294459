"""Path safety for paths read from NGFF metadata (DESIGN.md, "Security").

Metadata comes from strangers: a ``datasets[].path``, a ``labels`` entry or a well/image
path must never lead outside the group it was found in.
"""
from __future__ import annotations

from .errors import NgffError


def check_relative_path(path: object, field: str) -> str:
    """Return ``path`` if it is a safe relative path inside the group, else raise.

    Rejected: non-strings, empty paths, absolute paths (``/x``, ``C:x``), backslashes,
    NUL, empty components (``a//b``, trailing ``/``), ``.`` and ``..`` components.
    ``field`` names the offending metadata field in the error (an :class:`NgffError`,
    which is a ``ValueError``).
    """
    if not isinstance(path, str):
        raise NgffError(field, f"path must be a string, got {type(path).__name__}")
    if path == "":
        raise NgffError(field, "path is empty")
    if "\x00" in path:
        raise NgffError(field, f"path {path!r} contains NUL")
    if "\\" in path:
        raise NgffError(field, f"path {path!r} contains a backslash")
    if path.startswith("/"):
        raise NgffError(field, f"path {path!r} is absolute")
    if len(path) >= 2 and path[1] == ":" and path[0].isalpha():
        raise NgffError(field, f"path {path!r} has a drive letter")
    for part in path.split("/"):
        if part == "":
            raise NgffError(field, f"path {path!r} has an empty component")
        if part in (".", ".."):
            raise NgffError(field, f"path {path!r} has a {part!r} component")
    return path
