"""A read-only HTTP file server with Range support, for ``https://``-style tests.

Serves one directory on 127.0.0.1 (a free port), one thread per connection, HTTP/1.1
keep-alive.  GET and HEAD only (anything else: 405); ``Range: bytes=a-b``, ``bytes=a-``
and suffix ranges ``bytes=-n`` get 206 with ``Content-Range``; a range that starts past
the end gets 416; a missing file (or a path that leaves the directory) 404.  Every
request is recorded (method, path, Range header, status) so tests can count them.

    with RangeServer(directory) as srv:
        srv.url            # "http://127.0.0.1:PORT"
        srv.requests()     # [Request(method, path, range, status), ...]
"""
from __future__ import annotations

import os
import re
import threading
import urllib.parse
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class Request:
    method: str
    path: str        # URL path without the leading slash, unquoted
    range: str | None
    status: int


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args) -> None:  # noqa: A002 -- the base class's name
        pass

    def _record(self, status: int) -> None:
        with self.server.lock:
            self.server.log.append(Request(self.command, self._rel, self.headers.get("Range"), status))

    def _file(self) -> Path | None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        self._rel = path
        root = self.server.root
        target = (root / path).resolve()
        if target != root and root not in target.parents:
            return None
        return target if target.is_file() else None

    def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self._record(status)

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _refuse(self) -> None:
        self._rel = urllib.parse.urlsplit(self.path).path.lstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._send(405, {"Allow": "GET, HEAD", "Content-Length": "0"})

    do_PUT = do_POST = do_DELETE = do_PATCH = _refuse

    def _serve(self) -> None:
        f = self._file()
        if f is None:
            self._send(404, {"Content-Length": "0"})
            return
        data = f.read_bytes()
        size = len(data)
        base = {"Accept-Ranges": "bytes", "Last-Modified": formatdate(os.stat(f).st_mtime, usegmt=True),
                "ETag": f'"{os.stat(f).st_mtime_ns:x}-{size:x}"', "Content-Type": "application/octet-stream"}
        rng = self.headers.get("Range")
        if rng is None:
            self._send(200, {**base, "Content-Length": str(size)}, data)
            return
        m = _RANGE.match(rng.strip())
        if m is None or (m.group(1) == "" and m.group(2) == ""):
            self._send(416, {"Content-Range": f"bytes */{size}", "Content-Length": "0"})
            return
        a, b = m.group(1), m.group(2)
        if a == "":                      # suffix: the last n bytes
            n = int(b)
            if n == 0:
                self._send(416, {"Content-Range": f"bytes */{size}", "Content-Length": "0"})
                return
            start, end = max(0, size - n), size - 1
        else:
            start = int(a)
            end = size - 1 if b == "" else min(int(b), size - 1)
            if start >= size or end < start:
                self._send(416, {"Content-Range": f"bytes */{size}", "Content-Length": "0"})
                return
        body = data[start:end + 1]
        self._send(206, {**base, "Content-Range": f"bytes {start}-{end}/{size}",
                         "Content-Length": str(len(body))}, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    root: Path
    lock: threading.Lock
    log: list[Request]


class RangeServer:
    def __init__(self, directory: str | os.PathLike):
        self.root = Path(directory).resolve()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        srv = _Server(("127.0.0.1", 0), _Handler)
        srv.root, srv.lock, srv.log = self.root, threading.Lock(), []
        self._server = srv
        self._thread = threading.Thread(target=srv.serve_forever, name="range-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def requests(self, method: str | None = None) -> list[Request]:
        assert self._server is not None
        with self._server.lock:
            return [r for r in self._server.log if method is None or r.method == method]

    def reset(self) -> None:
        assert self._server is not None
        with self._server.lock:
            self._server.log.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
