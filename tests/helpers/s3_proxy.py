"""A counting, fault-injecting HTTP/1.1 proxy for S3 tests (asyncio, own thread).

Clients talk to ``proxy.endpoint``; each request is forwarded to the upstream
S3 server on a fresh upstream connection per client connection, and recorded
(method, key, Range header, status, start/end time).  Faults:

- ``proxy.fail_next(n, kind)``: the next n requests (optionally only those
  whose method/key match) get ``kind`` instead of being forwarded;
- ``proxy.fail_key(key, kind)``: every request for that key does, until
  ``proxy.clear_faults()``.

``kind`` is "503" (an S3 SlowDown error response) or "drop" (the connection
is closed without a response).  ``max_in_flight`` is the largest number of
requests the proxy held at once (request received, response not yet sent).
"""
from __future__ import annotations

import asyncio
import threading
import time
import urllib.parse
from dataclasses import dataclass


@dataclass
class Request:
    method: str
    key: str  # path without the bucket, no leading slash
    range: str | None
    status: int | str = "?"  # int, or "503*"/"drop" for injected faults
    start: float = 0.0
    end: float = 0.0


@dataclass
class _Fault:
    kind: str
    remaining: int | None  # None = persistent
    method: str | None = None
    key: str | None = None

    def matches(self, r: Request) -> bool:
        return (self.method is None or r.method == self.method) and (self.key is None or r.key == self.key)


_503 = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
        b"<Message>Please reduce your request rate (injected).</Message></Error>")


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


def _headers(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    hs = []
    for line in lines[1:]:
        if line:
            k, _, v = line.partition(":")
            hs.append((k.strip(), v.strip()))
    return lines[0], hs


def _get(hs, name: str) -> str | None:
    name = name.lower()
    for k, v in hs:
        if k.lower() == name:
            return v
    return None


async def _copy_body(reader, writer, hs, no_body: bool) -> None:
    """Forwards one message body (Content-Length or chunked)."""
    if no_body:
        return
    te = _get(hs, "transfer-encoding")
    if te is not None and "chunked" in te.lower():
        while True:
            line = await reader.readuntil(b"\r\n")
            writer.write(line)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                # Trailers, then the empty line.
                while True:
                    t = await reader.readuntil(b"\r\n")
                    writer.write(t)
                    if t == b"\r\n":
                        return
            writer.write(await reader.readexactly(size + 2))
            await writer.drain()
    n = int(_get(hs, "content-length") or 0)
    while n > 0:
        chunk = await reader.read(min(n, 1 << 20))
        if not chunk:
            raise ConnectionError("upstream closed mid-body")
        writer.write(chunk)
        n -= len(chunk)
        await writer.drain()


class S3Proxy:
    def __init__(self, upstream_port: int, bucket: str):
        self.upstream_port = upstream_port
        self.bucket = bucket
        self.port = 0
        self._lock = threading.Lock()
        self._log: list[Request] = []
        self._faults: list[_Fault] = []
        self._in_flight = 0
        self.max_in_flight = 0
        # Seconds added before each forwarded request: makes "were requests
        # in flight together?" a property of the client, not of timing luck.
        self.latency = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="s3-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- control, from any thread ----

    def start(self) -> S3Proxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), self._loop).result()
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close():
            self._server.close()
            for w in list(self._writers):
                w.close()
            await self._server.wait_closed()
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def reset(self) -> None:
        """Forgets recorded requests and in-flight maxima (faults stay)."""
        with self._lock:
            self._log.clear()
            self.max_in_flight = self._in_flight

    def requests(self, method: str | None = None, key: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self._log if (method is None or r.method == method)
                    and (key is None or r.key == key)]

    def fail_next(self, n: int, kind: str = "503", method: str | None = None, key: str | None = None) -> None:
        self._add(_Fault(kind, n, method, key))

    def fail_key(self, key: str, kind: str = "503", method: str | None = None) -> None:
        self._add(_Fault(kind, None, method, key))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, f: _Fault) -> None:
        if f.kind not in ("503", "drop"):
            raise ValueError(f"fault kind {f.kind!r}: expected '503' or 'drop'")
        with self._lock:
            self._faults.append(f)

    def _fault_for(self, r: Request) -> str | None:
        with self._lock:
            for f in self._faults:
                if f.matches(r):
                    if f.remaining is not None:
                        f.remaining -= 1
                        if f.remaining <= 0:
                            self._faults.remove(f)
                    return f.kind
        return None

    # ---- the proxy, on its own loop ----

    def _parse(self, line: str, hs) -> Request:
        method, target, _ = line.split(" ", 2)
        path = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
        prefix = f"/{self.bucket}/"
        key = path[len(prefix):] if path.startswith(prefix) else path.lstrip("/")
        return Request(method, key, _get(hs, "range"))

    async def _client(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        ureader = uwriter = None
        self._writers.add(cwriter)
        try:
            while True:
                head = await _read_head(creader)
                if head is None:
                    return
                line, hs = _headers(head)
                r = self._parse(line, hs)
                r.start = time.monotonic()
                with self._lock:
                    self._log.append(r)
                    self._in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self._in_flight)
                try:
                    kind = self._fault_for(r)
                    if (_get(hs, "expect") or "").lower() == "100-continue":
                        # Answer it here, so the body arrives before we decide what to do with it.
                        cwriter.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                        await cwriter.drain()
                        head = b"".join(line + b"\r\n" for line in head.split(b"\r\n")
                                        if not line.lower().startswith(b"expect:"))[:-2]
                    if kind == "drop":
                        r.status = "drop"
                        return
                    if kind == "503":
                        # Swallow the request body so the connection stays usable.
                        await _copy_body(creader, _Sink(), hs, False)
                        r.status = "503*"
                        cwriter.write(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                                      b"Content-Length: %d\r\n\r\n" % len(_503)
                                      + (b"" if r.method == "HEAD" else _503))
                        await cwriter.drain()
                        continue
                    if self.latency:
                        await asyncio.sleep(self.latency)
                    if uwriter is None:
                        ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream_port)
                    uwriter.write(head)
                    await _copy_body(creader, uwriter, hs, False)
                    await uwriter.drain()
                    rhead = await _read_head(ureader)
                    if rhead is None:
                        return
                    status_line, rhs = _headers(rhead)
                    status = int(status_line.split(" ", 2)[1])
                    r.status = status  # before the client can see the answer
                    cwriter.write(rhead)
                    await _copy_body(ureader, cwriter, rhs,
                                     r.method == "HEAD" or status in (204, 304) or 100 <= status < 200)
                    await cwriter.drain()
                    if (_get(rhs, "connection") or "").lower() == "close":
                        return
                finally:
                    r.end = time.monotonic()
                    with self._lock:
                        self._in_flight -= 1
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            self._writers.discard(cwriter)
            for w in (cwriter, uwriter):
                if w is not None:
                    w.close()


class _Sink:
    def write(self, b) -> None:
        pass

    async def drain(self) -> None:
        pass
