"""A native kernel's error turned into one that names the chunk key (shared by
the read paths in core, regions and remote_io)."""
from __future__ import annotations

from omezarr_fast.errors import ChunkError, ChunkReadError, CodecError

__all__ = ["chunk_error"]


def chunk_error(e: CodecError | OSError, keys: list[str]) -> ChunkError | ChunkReadError:
    """A kernel's error (``.index``: the failing item) naming its key: corrupt
    data (CodecError) as a ChunkError, an I/O error (OSError) as a ChunkReadError."""
    index = getattr(e, "index", None)
    key = keys[index] if index is not None and 0 <= index < len(keys) else "?"
    if isinstance(e, OSError):
        return ChunkReadError(e.errno, f"chunk {key!r}: {e.strerror or e}", key)
    return ChunkError(f"chunk {key!r}: {e}", key)
