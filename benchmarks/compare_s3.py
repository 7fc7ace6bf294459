"""omezarr_fast.CodecPipeline vs zarr's default pipeline vs tensorstore, reading
a sharded array from a local S3 server (SeaweedFS on 127.0.0.1, started here).

    python benchmarks/compare_s3.py                       # 128x1024x1024 uint16 (268 MB)
    python benchmarks/compare_s3.py --shape 64,512,512 --repeat 2

The array: microscopy-like uint16, shards 64x512x512, inner chunks 32^3,
zstd-3, written once by omezarr_fast through obstore.  Scenarios: full read
(MB/s of uncompressed data) and 64 random 64^3 patches read one after the
other (seconds).  Peers: omezarr_fast and zarr's BatchedCodecPipeline, each
through zarr's ObjectStore (obstore) and FsspecStore (s3fs), and
tensorstore's zarr3 driver on its s3 kvstore.  Interleaved, best of
--repeat.  Then one pass per peer and scenario through a counting proxy
(tests/helpers/s3_proxy.py) gives the GET requests each issues (not timed).
Prints markdown.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import ZstdCodec
from zarr.core.sync import sync
from zarr.storage import FsspecStore, ObjectStore

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from data import microscopy_like  # noqa: E402
from helpers.s3_proxy import S3Proxy  # noqa: E402
from helpers.s3_server import REGION, SeaweedFS  # noqa: E402

import omezarr_fast  # noqa: E402

BUCKET = "bench"
NAME = "arr"
PIPELINES = {"omezarr_fast": "omezarr_fast.CodecPipeline",
             "zarr": "zarr.core.codec_pipeline.BatchedCodecPipeline"}


class Peers:
    """Opens the array for a peer ("omezarr_fast obstore", ..., "tensorstore")
    against one endpoint; keeps the s3fs filesystems to close them."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._fs = []

    def names(self) -> list[str]:
        out = [f"{p} {s}" for p in PIPELINES for s in ("obstore", "fsspec")]
        try:
            import tensorstore  # noqa: F401
            out.append("tensorstore")
        except ImportError:
            pass
        return out

    def store(self, kind: str):
        if kind == "obstore":
            from obstore.store import S3Store
            return ObjectStore(S3Store(BUCKET, endpoint=self.endpoint, region=REGION, skip_signature=True,
                                       client_options={"allow_http": True}))
        import s3fs
        fs = s3fs.S3FileSystem(anon=True, endpoint_url=self.endpoint, asynchronous=True,
                               skip_instance_cache=True, config_kwargs={"region_name": REGION})
        self._fs.append(fs)
        return FsspecStore(fs, path=BUCKET)

    def open(self, peer: str):
        if peer == "tensorstore":
            import tensorstore as ts
            return ts.open({"driver": "zarr3", "kvstore": {
                "driver": "s3", "bucket": BUCKET, "path": f"{NAME}/", "endpoint": self.endpoint,
                "aws_region": REGION, "aws_credentials": {"type": "anonymous"}}}).result()
        pipe, kind = peer.split(" ")
        with zarr.config.set({"codec_pipeline.path": PIPELINES[pipe]}):
            return zarr.open_array(self.store(kind), path=NAME, mode="r")

    def close(self):
        async def close():
            for fs in self._fs:
                if fs._s3 is not None:
                    await fs._s3.__aexit__(None, None, None)
        sync(close())
        self._fs.clear()


def read_full(a, ts_: bool):
    return a.read().result() if ts_ else a[:]


def read_patches(a, corners, ts_: bool):
    # One patch after the other, as an interactive viewer asks for them.
    if ts_:
        return [a[z:z + 64, y:y + 64, x:x + 64].read().result() for z, y, x in corners]
    return [a[z:z + 64, y:y + 64, x:x + 64] for z, y, x in corners]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="128,1024,1024")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-counts", action="store_true", help="skip the request-count pass")
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.shape.split(","))
    shards = tuple(min(a, b) for a, b in zip(shape, (64, 512, 512)))
    data = microscopy_like(shape, np.uint16, seed=0)
    mb = data.nbytes / 1e6
    rng = np.random.default_rng(1)
    corners = [tuple(int(rng.integers(0, max(1, s - 64 + 1))) for s in shape) for _ in range(64)]
    with tempfile.TemporaryDirectory(prefix="ozf-s3-bench-") as tmp, SeaweedFS(tmp, bucket=BUCKET) as server:
        peers = Peers(server.endpoint)
        with omezarr_fast.enabled():
            a = zarr.create_array(peers.store("obstore"), name=NAME, shape=shape, dtype="u2", fill_value=0,
                                  chunks=(32, 32, 32), shards=shards, compressors=[ZstdCodec(level=3)])
            a[:] = data
        names = peers.names()
        best = {p: {"read": 1e9, "patches": 1e9} for p in names}
        want_patches = [data[z:z + 64, y:y + 64, x:x + 64] for z, y, x in corners]
        for _ in range(args.repeat):
            for p in names:
                ts_ = p == "tensorstore"
                arr = peers.open(p)
                t, out = timed(lambda a=arr, t=ts_: read_full(a, t))
                assert np.array_equal(out, data), f"{p}: wrong data"
                del out
                best[p]["read"] = min(best[p]["read"], t)
                arr = peers.open(p)
                t, out = timed(lambda a=arr, t=ts_: read_patches(a, corners, t))
                assert all(np.array_equal(o, w) for o, w in zip(out, want_patches)), f"{p}: wrong patch"
                best[p]["patches"] = min(best[p]["patches"], t)
                peers.close()
        counts = {}
        if not args.no_counts:
            proxy = S3Proxy(server.port, BUCKET).start()
            try:
                via = Peers(proxy.endpoint)
                for p in names:
                    ts_ = p == "tensorstore"
                    for scen, fn in (("read", lambda a, t=ts_: read_full(a, t)),
                                     ("patches", lambda a, t=ts_: read_patches(a, corners, t))):
                        arr = via.open(p)
                        proxy.reset()
                        fn(arr)
                        gets = proxy.requests("GET")
                        heads = proxy.requests("HEAD")
                        counts[p, scen] = (len(gets), len(heads), proxy.max_in_flight)
                    via.close()
            finally:
                proxy.stop()
        peers.close()

    n_shards = int(np.prod([-(-s // c) for s, c in zip(shape, shards)]))
    print(f"# S3 read comparison: {shape} uint16 ({mb:.0f} MB), shards {shards}, inner 32^3, zstd-3, "
          f"{n_shards} shards; SeaweedFS on 127.0.0.1; best of {args.repeat}, interleaved\n")
    o = best["omezarr_fast obstore"]
    print("| peer | full read MB/s | 64 patches s | full read vs ours | patches vs ours |")
    print("|---|---|---|---|---|")
    for p in names:
        b = best[p]
        print(f"| {p} | {mb / b['read']:.0f} | {b['patches']:.3f} | {b['read'] / o['read']:.2f}x | "
              f"{b['patches'] / o['patches']:.2f}x |")
    print("\n(vs ours = that peer's time / omezarr_fast obstore's time: >1 means ours is faster.)\n")
    if counts:
        print("Requests per scenario (through the counting proxy; GET / HEAD / most in flight at once):\n")
        print("| peer | full read | 64 patches |")
        print("|---|---|---|")
        for p in names:
            r, q = counts[p, "read"], counts[p, "patches"]
            print(f"| {p} | {r[0]} / {r[1]} / {r[2]} | {q[0]} / {q[1]} / {q[2]} |")


if __name__ == "__main__":
    main()
