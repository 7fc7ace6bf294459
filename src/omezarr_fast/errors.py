"""Exceptions raised by omezarr_fast."""


class CodecError(ValueError):
    """A chunk could not be encoded or decoded: corrupt or truncated data, a
    wrong checksum, or a decoded size that does not match the chunk.

    The message names the codec that failed and, for batch calls, the chunk
    index (also in ``.index``; None for single-chunk calls)."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


class ChunkError(CodecError):
    """A stored chunk or shard is corrupt, truncated or fails its checksum.

    The message and ``.key`` name the store key."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


class ChunkReadError(OSError):
    """A stored chunk or shard could not be read: an I/O error of the device or
    file system (EIO and the like), not corrupt data.

    ``.errno`` is the system's error number; the message and ``.key`` name the
    store key."""

    def __init__(self, errno: int | None, message: str, key: str | None = None):
        super().__init__(errno, message)
        self.key = key


class StoreError(OSError):
    """A store request kept failing (connection errors, timeouts, HTTP 5xx)
    after the retries (see omezarr_fast._retry).

    The message and ``.key`` name the store key; the last failure is the
    ``__cause__``."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


class OutputExistsError(FileExistsError):
    """The output path of a writer exists and ``overwrite`` was not given; ``.path`` names it
    (the command line says ``--overwrite`` where the API says ``overwrite=True``)."""

    def __init__(self, path):
        super().__init__(f"{path} already exists; pass overwrite=True to replace it")
        self.path = str(path)


class UnsafePathError(ValueError):
    """A path leads outside the root it was opened under (through a symlink,
    or ``..``), or names something other than a regular file or directory (a
    FIFO, a device, a socket).  Refused like a ``..`` in metadata: nothing
    outside an image is ever read.

    The message names the path; ``.path`` holds it when known."""

    def __init__(self, message: str, path=None):
        super().__init__(message)
        self.path = path


class ReadOnlyLocationError(PermissionError):
    """A write to a location that cannot be written: an ``http://`` or ``https://`` URL
    (read-only by nature) or a read-only store.  The message and ``.url`` name it."""

    def __init__(self, url):
        super().__init__(f"{url}: this location is read-only (http(s) URLs serve reads only); "
                         "write to a path or an object store URL (s3://, gs://, az://)")
        self.url = str(url)
