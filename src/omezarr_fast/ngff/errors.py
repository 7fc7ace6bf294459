"""The one exception type of omezarr_fast.ngff and the JSON-path notation it uses."""
from __future__ import annotations

import re

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def join_path(base: str, key: str | int) -> str:
    """Extend a JSON path: ``join_path("ome", "multiscales")`` -> ``ome.multiscales``.

    Integers become ``[i]``; keys that are not plain names (``bioformats2raw.layout``)
    become ``["key"]`` so the path stays unambiguous.
    """
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{base}.{key}" if base else key
    return f'{base}["{key}"]'


class NgffError(ValueError):
    """Bad OME-Zarr metadata or arguments; ``path`` is the JSON path of the offending field."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)
