"""Where an OME-Zarr lives: one module turns a path, URL or zarr store into a store.

Every public entry point that takes a location passes it through :func:`location`, which
gives a :class:`Location`: a local directory (a path or ``file://`` URL), an object store
URL (``s3://``, ``gs://``, ``az://``; ``http://`` and ``https://``, read-only) or a zarr
``Store``/``StorePath`` given by the caller.  Nothing above this module parses URLs or
assumes a local path.

URLs open through obstore (zarr's ``ObjectStore``).  Credentials and endpoints come from
the environment as obstore reads them (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_REGION``, ``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_STORAGE_ACCOUNT_KEY``, ...) and
from ``storage_options`` (keyword arguments of ``obstore.store.from_url``, e.g.
``{"region": "eu-west-1", "endpoint": "http://127.0.0.1:9000"}``).  When neither names a
credential, requests are anonymous (``skip_signature``): public buckets open as they are.
An ``http://`` endpoint allows plain HTTP.

Safety: a child location (an NGFF ``datasets[].path``, label, well or field path) is joined
only after :func:`omezarr_fast.ngff.check_relative_path` accepted it, so no key ever leaves
the root, whatever the backend.  Local locations also keep :mod:`omezarr_fast.safepath`'s
rule (symlinks that lead out, FIFOs, devices, sizes above a bound are refused).

A location pickles as its description (kind, URL, options): a dask worker that unpickles
an array on one of our object stores opens its own store from it.
"""
from __future__ import annotations

import atexit
import gc
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zarr.storage import ObjectStore

from omezarr_fast import ngff, safepath
from omezarr_fast.errors import OutputExistsError, ReadOnlyLocationError

__all__ = ["Location", "LocationStore", "location"]

_SCHEMES = {"s3": "s3", "s3a": "s3", "gs": "gs", "gcs": "gs", "az": "az", "azure": "az",
            "abfs": "az", "abfss": "az", "adl": "az", "http": "http", "https": "http"}
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)

# Environment variables through which obstore finds credentials, per kind: with none of them
# set (and no credential in storage_options) requests are made anonymously.
_CREDENTIAL_ENV = {
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
           "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
           "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_SKIP_SIGNATURE"),
    "gs": ("GOOGLE_SERVICE_ACCOUNT", "GOOGLE_SERVICE_ACCOUNT_PATH", "GOOGLE_SERVICE_ACCOUNT_KEY",
           "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_SKIP_SIGNATURE"),
    "az": ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_SAS_KEY",
           "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_TOKEN", "AZURE_CLIENT_ID",
           "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USE_AZURE_CLI", "AZURE_SKIP_SIGNATURE",
           "AZURE_STORAGE_USE_EMULATOR"),
}
# storage_options keys that carry a credential (or say how to sign): then not anonymous.
_CREDENTIAL_WORDS = ("key", "secret", "token", "credential", "service_account", "password",
                     "sas", "skip_signature", "profile", "use_azure_cli", "use_emulator")
_ENDPOINT_OPTIONS = ("endpoint", "endpoint_url", "aws_endpoint", "aws_endpoint_url")
# Metadata files of a zarr node, v3 and v2.
_NODE_FILES = ("zarr.json", ".zgroup", ".zarray", ".zattrs")
# A zarr metadata document larger than this is refused before it is read.
MAX_METADATA_BYTES = 64 << 20


def _sync(coro):
    from zarr.core.sync import sync

    return sync(coro)


class Location:
    """A place for a zarr hierarchy: ``kind`` ("local", "s3", "gs", "az", "http" or "store"
    for a zarr store given as it is), the ``base`` it was opened at (a directory, a URL or
    the store) and ``path``, the "/"-separated key prefix below it ("" for the base).

    Children (:meth:`child`) share the base and its store."""

    def __init__(self, kind: str, base: Any, path: str = "",
                 storage_options: Mapping[str, Any] | None = None, *, _shared: dict | None = None):
        self.kind = kind
        self.base = base
        self.path = path
        self.storage_options = dict(storage_options or {})
        # The stores made for this base, shared with children (not pickled).
        self._shared = _shared if _shared is not None else {}

    # -- description ----------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    @property
    def read_only(self) -> bool:
        return self.kind == "http" or (self.kind == "store" and bool(self.base.read_only))

    @property
    def can_list(self) -> bool:
        """Whether keys can be listed: plain HTTP cannot (no WebDAV), so what is there is
        known from metadata alone."""
        return self.kind != "http"

    @property
    def local_path(self) -> Path | None:
        """The directory (local locations), else None."""
        if not self.is_local:
            return None
        return Path(self.base) / self.path if self.path else Path(self.base)

    @property
    def root(self) -> Path | None:
        """The local directory the location was opened at: what safepath checks against."""
        return Path(self.base) if self.is_local else None

    @property
    def url(self) -> str:
        """The location as the user would write it (a path for local ones)."""
        if self.is_local:
            return str(self.local_path)
        base = str(self.base).rstrip("/") if self.kind != "store" else _store_name(self.base)
        return f"{base}/{self.path}" if self.path else base

    @property
    def name(self) -> str:
        """The last component (the image's directory name)."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"Location({self.kind!r}, {self.url!r})"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Location) and (self.kind, self.path) == (other.kind, other.path)
                and (self.base is other.base or self.base == other.base)
                and self.storage_options == other.storage_options)

    def __hash__(self) -> int:
        return hash((self.kind, self.url))

    def __reduce__(self):
        # The description only: the stores are made again where it is unpickled (a store
        # given by the caller pickles as it does, or not at all).
        return (Location, (self.kind, self.base, self.path, self.storage_options))

    def public(self):
        """What to hand back to the caller: a Path (local), a URL, or a StorePath."""
        if self.is_local:
            return self.local_path
        if self.kind == "store":
            return self.store_path()
        return self.url

    # -- navigation -------------------------------------------------------------------

    def child(self, rel: str, field: str = "path") -> Location:
        """The location ``rel`` below this one; ``rel`` (from metadata) must be a safe
        relative path (:func:`omezarr_fast.ngff.check_relative_path`, which names
        ``field`` when it is not)."""
        ngff.check_relative_path(rel, field)
        path = f"{self.path}/{rel}" if self.path else rel
        return Location(self.kind, self.base, path, self.storage_options, _shared=self._shared)

    def rooted(self) -> Location:
        """This location as a root of its own (local: safepath checks against it)."""
        if not self.is_local or not self.path:
            return self
        return Location("local", str(self.local_path), "", self.storage_options)

    def parent(self) -> Location | None:
        """The enclosing location, or None at the base (or a local directory's parent)."""
        if self.is_local:
            p = self.local_path
            return Location("local", str(p.parent)) if p.parent != p else None
        if not self.path:
            return None
        head = self.path.rsplit("/", 1)[0] if "/" in self.path else ""
        return Location(self.kind, self.base, head, self.storage_options, _shared=self._shared)

    def sibling(self, name: str) -> Location:
        """A location next to this one named ``name`` (a temporary directory)."""
        ngff.check_relative_path(name, "name")
        if self.is_local:
            return Location("local", str(self.local_path.parent / name))
        parent = self.parent()
        if parent is not None:
            return parent.child(name)
        if self.kind == "store":
            raise ValueError(f"{self.url}: no room next to the root of the store")
        # The base URL itself: the sibling is a base of its own (its own store).
        head, _, tail = str(self.base).rpartition("/")
        if not tail or head.endswith(":/"):
            raise ValueError(f"{self.url}: a bucket or host has no sibling; give a path inside it")
        return Location(self.kind, f"{head}/{name}", "", self.storage_options)

    # -- stores -----------------------------------------------------------------------

    def _root_store(self):
        """The zarr store at ``base`` (made once and shared with children)."""
        store = self._shared.get("store")
        if store is None:
            if self.kind == "store":
                store = self.base
            else:
                store = _object_store(self)
            self._shared["store"] = store
        return store

    def store_path(self):
        """A zarr ``StorePath`` for this location (what zarr.open_group/open_array take)."""
        from zarr.storage import LocalStore, StorePath

        if self.is_local:
            return StorePath(LocalStore(str(self.local_path)), "")
        return StorePath(self._root_store(), self.path)

    def open(self):
        """What zarr.open_group/open_array take for this location: the path string for
        local directories (zarr then makes its LocalStore, the fast native path), else a
        StorePath on the shared store."""
        if self.is_local:
            return str(self.local_path)
        return self.store_path()

    def _key(self, key: str) -> str:
        return f"{self.path}/{key}" if self.path and key else (key or self.path)

    # -- reading ----------------------------------------------------------------------

    def check(self) -> None:
        """Local: the node and its metadata files resolve inside the root (safepath);
        remote keys are lexically safe by construction (:meth:`child`)."""
        if self.is_local:
            safepath.check_node(self.root, self.local_path)

    def read_bytes(self, key: str, max_size: int | None = MAX_METADATA_BYTES) -> bytes | None:
        """The object ``key`` (relative, "/"-separated) below this location, or None when
        it is missing; refused (UnsafePathError) above ``max_size`` bytes or outside the root."""
        if key:
            ngff.check_relative_path(key, "key")
        if self.is_local:
            f = safepath.open_file(self.root, self.local_path / key if key else self.local_path,
                                   max_size)
            if f is None:
                return None
            with f:
                return f.read()
        from zarr.core.buffer import default_buffer_prototype

        store = self._root_store()
        buf = _sync(store.get(self._key(key), prototype=default_buffer_prototype()))
        if buf is None:
            return None
        data = buf.to_bytes()
        if max_size is not None and len(data) > max_size:
            from omezarr_fast.errors import UnsafePathError

            raise UnsafePathError(f"{self.url}/{key} holds {len(data)} bytes, more than the "
                                  f"{max_size} it may", f"{self.url}/{key}")
        return data

    def _get(self, name: str) -> bytes | None:
        return self.read_bytes(name)

    def node(self) -> tuple[int, str, dict[str, Any], dict[str, Any]]:
        """``(zarr_format, node_type, attributes, metadata)`` of the zarr node here
        (:func:`omezarr_fast.ngff.read_node`); FileNotFoundError when there is none."""
        if self.is_local:
            return ngff.read_node(self.local_path)
        return ngff.read_node_with(self._get, self.url)

    def attributes(self) -> dict[str, Any]:
        """The group's raw attributes (``zarr.json`` attributes or ``.zattrs``)."""
        if self.is_local:
            return ngff.read_attributes(self.local_path)
        return self.node()[2]

    def metadata(self) -> ngff.OmeAttributes:
        return ngff.parse_attributes(self.attributes())

    def is_node(self) -> bool:
        """Whether zarr metadata is here (local: whether the directory exists)."""
        if self.is_local:
            return self.local_path.is_dir()
        return any(self.exists_key(n) for n in _NODE_FILES)

    def exists_key(self, key: str) -> bool:
        if self.is_local:
            return (self.local_path / key).exists()
        return bool(_sync(self._root_store().exists(self._key(key))))

    def exists(self) -> bool:
        """Whether anything is stored here."""
        if self.is_local:
            return self.local_path.exists() or self.local_path.is_symlink()
        if not self.can_list:
            return self.is_node()
        return _sync(_first(lambda: self._root_store().list_prefix(self._prefix()))) is not None

    def _prefix(self) -> str:
        return f"{self.path}/" if self.path else ""

    def entries(self) -> tuple[list[str], list[str]]:
        """``(directories, files)`` directly below, by name, sorted.  Local: symlinks are
        not followed, and one that leads out of the root is an UnsafePathError; remote: a
        name that holds an object is a file, others are prefixes (directories)."""
        dirs, files = [], []
        if self.is_local:
            with os.scandir(self.local_path) as it:
                for entry in it:
                    if entry.is_symlink():
                        safepath.check_inside(self.root, entry.path)
                    if entry.is_dir(follow_symlinks=False):
                        dirs.append(entry.name)
                    elif entry.is_file(follow_symlinks=False):
                        files.append(entry.name)
            return sorted(dirs), sorted(files)
        for name in self.children():
            (files if self.exists_key(name) else dirs).append(name)
        return dirs, files

    def validate(self, strict: bool = False) -> ngff.ValidationResult:
        """:func:`omezarr_fast.ngff.validate_path` of the hierarchy here, on any backend."""
        if self.is_local:
            return ngff.validate_path(self.local_path, strict=strict)
        return ngff.validate_store(self._get, self.url, strict=strict)

    def children(self) -> list[str]:
        """Names directly below (local: directories only; remote: every name; none where
        keys cannot be listed)."""
        if self.is_local:
            try:
                return sorted(p.name for p in self.local_path.iterdir() if p.is_dir())
            except OSError:
                return []
        if not self.can_list:
            return []
        return sorted(_sync(_collect(lambda: self._root_store().list_dir(self.path))))

    def size(self) -> int | None:
        """Bytes stored below this location (None where keys cannot be listed)."""
        if self.is_local:
            total = 0
            for root, _dirs, files in os.walk(self.local_path):
                for f in files:
                    try:
                        total += os.stat(os.path.join(root, f), follow_symlinks=False).st_size
                    except OSError:
                        pass
            return total
        if not self.can_list:
            return None
        return int(_sync(self._root_store().getsize_prefix(self._prefix())))

    # -- writing ----------------------------------------------------------------------

    def require_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyLocationError(self.url)

    def write_bytes(self, key: str, data: bytes) -> None:
        self.require_writable()
        ngff.check_relative_path(key, "key")
        if self.is_local:
            out = self.local_path / key
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            return
        from zarr.core.buffer import default_buffer_prototype

        _sync(self._root_store().set(self._key(key), default_buffer_prototype().buffer.from_bytes(data)))

    def remove(self) -> None:
        """Delete everything here (nothing to do when nothing is)."""
        self.require_writable()
        if self.is_local:
            p = self.local_path
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            elif p.exists() or p.is_symlink():
                p.unlink()
            return
        store = self._root_store()
        if self.path or isinstance(store, LocationStore):   # ObjectStore: "" is the whole store
            _sync(store.delete_dir(self.path))
        else:
            keys = _sync(_collect(lambda: store.list_prefix("")))
            for k in keys:
                _sync(store.delete(k))

    def keys(self) -> list[str]:
        """Every key below this location, relative to it (local: regular files); a
        ValueError where keys cannot be listed (plain HTTP)."""
        if self.is_local:
            root = self.local_path
            out = []
            for here, _dirs, files in os.walk(root):
                rel = os.path.relpath(here, root)
                out += [f if rel == "." else f"{rel}/{f}".replace(os.sep, "/") for f in files]
            return sorted(out)
        if not self.can_list:
            raise ValueError(f"{self.url}: an HTTP server cannot list its keys")
        prefix = self._prefix()
        keys = _sync(_collect(lambda: self._root_store().list_prefix(prefix)))
        return sorted(k[len(prefix):] for k in keys)

    def copy_to(self, dst: Location) -> None:
        """Copy every object here to ``dst`` as it is (no decoding), many in flight (the
        store's own retries only; :mod:`omezarr_fast.ome.objects` adds the pipeline's)."""
        dst.require_writable()
        keys = self.keys()
        if self.is_local and dst.is_local:
            for k in keys:
                data = self.read_bytes(k, None)
                if data is not None:
                    dst.write_bytes(k, data)
            return
        _sync(_copy_keys(self, dst, keys))

    def move_to(self, dst: Location) -> None:
        """Move everything here to ``dst`` (which must be empty): a rename on a local
        disk, a copy and delete elsewhere."""
        dst.require_writable()
        if self.is_local and dst.is_local:
            dst.local_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(self.local_path), str(dst.local_path))
            return
        self.copy_to(dst)
        self.remove()

    def remove_metadata(self) -> None:
        """Delete the node's metadata documents (remote writes that failed: what is left
        no longer looks like an image)."""
        for name in _NODE_FILES:
            if self.is_local:
                (self.local_path / name).unlink(missing_ok=True)
            else:
                _sync(self._root_store().delete(self._key(name)))

    def prepare(self, overwrite: bool) -> None:
        """Make room for a new hierarchy here: OutputExistsError when something is here and
        not ``overwrite``, else it is removed."""
        self.require_writable()
        if self.exists():
            if not overwrite:
                raise OutputExistsError(self.url)
            self.remove()


def _store_name(store) -> str:
    return str(store).rstrip("/")


async def _copy_keys(src: Location, dst: Location, keys: list[str]) -> None:
    import asyncio

    import zarr
    from zarr.core.buffer import default_buffer_prototype

    limit = asyncio.Semaphore(max(1, int(zarr.config.get("async.concurrency") or 10)))
    proto = default_buffer_prototype()

    async def one(key: str) -> None:
        async with limit:
            if src.is_local:
                data = src.read_bytes(key, None)
                buf = None if data is None else proto.buffer.from_bytes(data)
            else:
                buf = await src._root_store().get(src._key(key), prototype=proto)
            if buf is None:
                return
            if dst.is_local:
                dst.write_bytes(key, buf.to_bytes())
            else:
                await dst._root_store().set(dst._key(key), buf)

    await asyncio.gather(*(one(k) for k in keys))


# Listing calls take a function making the generator: some stores (obstore) start the
# request when the generator is made, which must happen on zarr's event loop.
async def _first(make):
    gen = make()
    try:
        async for item in gen:
            return item
        return None
    finally:
        # Closed here, on zarr's loop: a listing left open is finalized at exit, when the
        # store's runtime may be gone (a crash, not an error).
        await gen.aclose()


async def _collect(make) -> list:
    return [item async for item in make()]


def location(where, *, storage_options: Mapping[str, Any] | None = None) -> Location:
    """A :class:`Location` for ``where``: a path (str or PathLike), a URL (``file://``,
    ``s3://``, ``gs://``, ``az://``, ``http(s)://``), a zarr ``Store`` or ``StorePath``, or a
    Location (returned as it is).  ``storage_options`` go to a URL's object store; local
    paths ignore them (so one call can name a local source and a remote destination), and
    a zarr store, which comes configured, refuses them."""
    if isinstance(where, Location):
        if storage_options:
            return Location(where.kind, where.base, where.path, {**where.storage_options,
                                                                 **storage_options})
        return where
    if isinstance(where, os.PathLike):
        where = os.fspath(where)
    if isinstance(where, bytes):
        where = os.fsdecode(where)
    if isinstance(where, str):
        m = _URL.match(where)
        if m is None:   # storage_options are for object stores: a local path needs none
            return Location("local", where)
        scheme, rest = m.group(1).lower(), m.group(2)
        if scheme == "file":
            from urllib.parse import unquote, urlsplit

            parts = urlsplit(where)
            if parts.netloc not in ("", "localhost"):
                raise ValueError(f"{where}: a file:// URL must name a local path "
                                 f"(file:///dir), not host {parts.netloc!r}")
            return Location("local", unquote(parts.path))
        kind = _SCHEMES.get(scheme)
        if kind is None:
            raise ValueError(f"{where}: unknown URL scheme {scheme!r} (use a path, file://, s3://, "
                             "gs://, az://, http:// or https://)")
        if not rest.split("/", 1)[0]:
            raise ValueError(f"{where}: the URL names no bucket or host")
        return Location(kind, f"{scheme}://{rest.rstrip('/')}", "", storage_options)
    from zarr.abc.store import Store
    from zarr.storage import LocalStore, StorePath

    if isinstance(where, StorePath):
        store, path = where.store, where.path
    elif isinstance(where, Store):
        store, path = where, ""
    else:
        raise TypeError(f"a location is a path, a URL, a zarr Store or StorePath, got "
                        f"{type(where).__name__}")
    if storage_options:
        raise TypeError("storage_options are for URLs; a zarr store comes configured")
    if type(store) is LocalStore:
        root = Path(store.root)
        return Location("local", str(root / path) if path else str(root))
    if isinstance(store, LocationStore):   # one of ours: its own description
        loc = store.location
        return loc.child(path) if path else loc
    return Location("store", store, path.strip("/"))


# -- object stores ----------------------------------------------------------------------

def _wants_anonymous(kind: str, options: Mapping[str, Any]) -> bool:
    if kind not in _CREDENTIAL_ENV:
        return False
    if any(os.environ.get(v) for v in _CREDENTIAL_ENV[kind]):
        return False
    return not any(w in k.lower() for k in options for w in _CREDENTIAL_WORDS)


def _endpoint(kind: str, options: Mapping[str, Any]) -> str | None:
    for k in _ENDPOINT_OPTIONS:
        if options.get(k):
            return str(options[k])
    if kind == "s3":
        return os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT")
    return None


def _object_store(loc: Location):
    """zarr's ObjectStore over obstore for ``loc``'s base URL."""
    try:
        from obstore.store import from_url
    except ImportError:
        raise ImportError(f"{loc.url}: opening URLs needs obstore: pip install "
                          "'omezarr_fast[remote]'") from None
    options = dict(loc.storage_options)
    if _wants_anonymous(loc.kind, options):
        options["skip_signature"] = True
    endpoint = _endpoint(loc.kind, options)
    if loc.kind == "http" and str(loc.base).startswith("http://") or \
            endpoint is not None and endpoint.startswith("http://"):
        client = dict(options.get("client_options") or {})
        client.setdefault("allow_http", True)
        options["client_options"] = client
    if loc.kind == "s3":
        for k in ("endpoint_url", "aws_endpoint_url"):   # obstore's name is "endpoint"
            if k in options:
                options.setdefault("endpoint", options.pop(k))
    try:
        raw = from_url(str(loc.base), **options)
    except Exception as e:  # noqa: BLE001 -- obstore raises its own configuration errors
        raise ValueError(f"{loc.url}: cannot open the store: {e}") from None
    return LocationStore(raw, read_only=loc.read_only,
                         location=Location(loc.kind, loc.base, "", loc.storage_options))


# Stores unpickled in this process, by description: the arrays of every task of a dask graph
# share one store (and its connection pool) instead of opening one each.
_REOPENED: dict[tuple, Any] = {}


@atexit.register
def _release() -> None:
    """Drop the object stores nothing uses any more while the interpreter is whole: an
    obstore client freed during interpreter shutdown (garbage in a reference cycle, or a
    cached one) can abort the process after its work is done (seen in about one run in
    ten of a command that read S3)."""
    _REOPENED.clear()
    gc.collect()


def _reopen(loc: Location, read_only: bool):
    key = (loc.kind, str(loc.base), repr(sorted(loc.storage_options.items())), read_only)
    store = _REOPENED.get(key)
    if store is None:
        store = loc._root_store()
        if store.read_only != read_only:
            store = store.with_read_only(read_only)
        store = _REOPENED.setdefault(key, store)
    return store


class LocationStore(ObjectStore):
    """zarr's ObjectStore that knows the :class:`Location` it was opened from, and pickles
    as it: a worker process opens its own store (and its own connections)."""

    def __init__(self, store, *, read_only: bool = False, location: Location | None = None):
        super().__init__(store, read_only=read_only)
        self.location = location

    def with_read_only(self, read_only: bool = False) -> LocationStore:
        return LocationStore(self.store, read_only=read_only, location=self.location)

    def __reduce__(self):
        return (_reopen, (self.location, self.read_only))

    def __eq__(self, other) -> bool:
        return isinstance(other, LocationStore) and other.location == self.location

    def __hash__(self) -> int:
        return hash(self.location)
