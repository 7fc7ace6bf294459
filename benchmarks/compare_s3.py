"""omezarr_fast vs zarr's default pipeline vs tensorstore, reading a sharded
array from a local S3 server (SeaweedFS on 127.0.0.1, started here).

    python benchmarks/compare_s3.py                       # 128x1024x1024 uint16 (268 MB)
    python benchmarks/compare_s3.py --shape 64,512,512 --rounds 3

The array: microscopy-like uint16, shards 64x512x512, inner chunks 32^3,
zstd-3, written once by omezarr_fast through obstore.  Scenarios:

- full: the whole array (a whole level), MB/s of decoded data;
- one-by-one: 64 random 64^3 patches read one after the other (``arr[...]``,
  an interactive viewer's pattern), seconds;
- all-at-once: the same 64 patches asked for together: ``read_regions`` for
  us, tensorstore issuing the 64 reads concurrently (futures, then results);
- cold open: a fresh store object, open the array and read one patch
  (requests counted, the metadata ones apart); and the same as an OME-Zarr
  image: ours (``open_image`` on the s3:// URL, metadata validated, then a
  patch of level 0) against ome-zarr-py's Reader on its fsspec store.

Peers: omezarr_fast through zarr's ObjectStore (obstore) and FsspecStore
(s3fs); omezarr_fast with whole shards fetched as 8 MiB range parts
(``omezarr_fast.remote.part_bytes``, full read only); zarr's default
BatchedCodecPipeline through obstore; tensorstore's zarr3 driver on its s3
kvstore.  Rounds are interleaved (every peer once per round); the table
gives the median and the min-max over rounds.  Then one pass per peer and
scenario through a counting proxy (tests/helpers/s3_proxy.py) gives the
requests each issues (not timed).  Prints markdown.
"""
from __future__ import annotations

import argparse
import statistics
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
from omezarr_fast import read_regions  # noqa: E402

BUCKET = "bench"
IMAGE = "img"  # an OME-Zarr 0.5 image group; its level 0 is the array read here
NAME = f"{IMAGE}/0"
PATCH = 64
PART = 8 << 20
OURS = "omezarr_fast obstore"
PEERS = {  # name: (pipeline, store kind, zarr config while reading)
    OURS: ("omezarr_fast.CodecPipeline", "obstore", {}),
    "omezarr_fast obstore parts": ("omezarr_fast.CodecPipeline", "obstore", {"omezarr_fast.remote.part_bytes": PART}),
    "omezarr_fast fsspec": ("omezarr_fast.CodecPipeline", "fsspec", {}),
    "zarr obstore": ("zarr.core.codec_pipeline.BatchedCodecPipeline", "obstore", {}),
}
# Which peers run which scenario (parts only change whole-shard reads).
SCENARIOS = {"full": None, "one-by-one": {"omezarr_fast obstore parts"}, "all-at-once": None}


class Peers:
    """Opens the array for a peer against one endpoint; keeps the s3fs
    filesystems to close them."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._fs = []

    def names(self) -> list[str]:
        out = list(PEERS)
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
        pipe, kind, _ = PEERS[peer]
        with zarr.config.set({"codec_pipeline.path": pipe}):
            return zarr.open_array(self.store(kind), path=NAME, mode="r")

    def close(self):
        async def close():
            for fs in self._fs:
                if fs._s3 is not None:
                    await fs._s3.__aexit__(None, None, None)
        sync(close())
        self._fs.clear()


def boxes(corners):
    return [tuple(slice(c, c + PATCH) for c in corner) for corner in corners]


def run(peer: str, scen: str, a, corners):
    ts_ = peer == "tensorstore"
    if scen == "full":
        return a.read().result() if ts_ else a[:]
    if scen == "one-by-one":
        if ts_:
            return [a[b].read().result() for b in boxes(corners)]
        return [a[b] for b in boxes(corners)]
    if ts_:  # all at once: every read issued, then waited for
        futs = [a[b].read() for b in boxes(corners)]
        return [f.result() for f in futs]
    if peer.startswith("omezarr_fast"):
        return read_regions(a, boxes(corners))
    return None  # zarr has no batched read of many boxes


def applies(peer, scen):
    skip = SCENARIOS[scen]
    if skip and peer in skip:
        return False
    return not (scen == "all-at-once" and peer == "zarr obstore")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def cold_counts(endpoint_port: int, corners) -> dict[str, tuple]:
    """A fresh store, open + one patch, through the counting proxy:
    (metadata GETs, data GETs, HEADs, LISTs) per peer."""
    proxy = S3Proxy(endpoint_port, BUCKET).start()
    out = {}
    try:
        via = Peers(proxy.endpoint)
        for p in via.names():
            if p == "omezarr_fast obstore parts":
                continue
            proxy.reset()
            conf = PEERS.get(p, (None, None, {}))[2]
            with zarr.config.set(conf):
                a = via.open(p)
                run(p, "one-by-one", a, corners[:1])
            reqs = proxy.requests()
            meta = [r for r in reqs if r.method == "GET" and r.key.endswith((".json", "zarr.json"))]
            data = [r for r in reqs if r.method == "GET" and r not in meta]
            heads = [r for r in reqs if r.method == "HEAD"]
            other = [r for r in reqs if r.method not in ("GET", "HEAD")]
            out[p] = (len(meta), len(data), len(heads), len(other))
            via.close()
        # The image as an OME-Zarr reader opens it: ours through zarr (group
        # metadata, then the level), ome-zarr-py with its fsspec reader.
        for p, fn in (("omezarr_fast open_image(s3:// URL) + level 0", _ours_image),
                      ("ome-zarr-py fsspec (Reader)", _ome_zarr_py_image)):
            proxy.reset()
            try:
                fn(via, corners[0])
            except ImportError:
                continue
            reqs = proxy.requests()
            meta = [r for r in reqs if r.method == "GET" and r.key.endswith((".json", ".zattrs", ".zgroup",
                                                                              ".zarray", "zarr.json"))]
            data = [r for r in reqs if r.method == "GET" and r not in meta]
            heads = [r for r in reqs if r.method == "HEAD"]
            other = [r for r in reqs if r.method not in ("GET", "HEAD")]
            out[p] = (len(meta), len(data), len(heads), len(other))
            via.close()
    finally:
        proxy.stop()
    return out


def _ours_image(via: Peers, corner):
    img = omezarr_fast.open_image(f"s3://{BUCKET}/{IMAGE}", storage_options={"endpoint": via.endpoint,
                                                                              "region": REGION})
    return img.level(0)[tuple(slice(c, c + PATCH) for c in corner)]


def _ome_zarr_py_image(via: Peers, corner):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    store = via.store("fsspec")
    loc = parse_url(zarr.storage.StorePath(store, IMAGE))
    node = next(iter(Reader(loc)()))
    return np.asarray(node.data[0][tuple(slice(c, c + PATCH) for c in corner)].compute())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="128,1024,1024")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-counts", action="store_true", help="skip the request-count pass")
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.shape.split(","))
    shards = tuple(min(a, b) for a, b in zip(shape, (64, 512, 512)))
    data = microscopy_like(shape, np.uint16, seed=0)
    mb = data.nbytes / 1e6
    rng = np.random.default_rng(1)
    corners = [tuple(int(rng.integers(0, max(1, s - PATCH + 1))) for s in shape) for _ in range(64)]
    want_patches = [data[b] for b in boxes(corners)]
    times: dict = {}
    loads = []
    with tempfile.TemporaryDirectory(prefix="ozf-s3-bench-") as tmp, SeaweedFS(tmp, bucket=BUCKET) as server:
        peers = Peers(server.endpoint)
        with omezarr_fast.enabled():
            a = zarr.create_array(peers.store("obstore"), name=NAME, shape=shape, dtype="u2", fill_value=0,
                                  chunks=(32, 32, 32), shards=shards, compressors=[ZstdCodec(level=3)])
            a[:] = data
            g = zarr.open_group(peers.store("obstore"), path=IMAGE, mode="r+")
            g.attrs["ome"] = {"version": "0.5", "multiscales": [{
                "name": "bench", "axes": [{"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"],
                "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}]}]}
        names = peers.names()
        for _ in range(args.rounds):
            loads.append(open("/proc/loadavg").read().split()[0])
            for scen in SCENARIOS:
                for p in names:
                    if not applies(p, scen):
                        continue
                    arr = peers.open(p)
                    with zarr.config.set(PEERS.get(p, (None, None, {}))[2]):
                        t, out = timed(lambda: run(p, scen, arr, corners))
                    if scen == "full":
                        assert np.array_equal(out, data), f"{p}: wrong data"
                    else:
                        assert all(np.array_equal(o, w) for o, w in zip(out, want_patches)), f"{p}: wrong patch"
                    del out
                    times.setdefault((p, scen), []).append(t)
                    peers.close()
        counts = {}
        cold = {}
        if not args.no_counts:
            proxy = S3Proxy(server.port, BUCKET).start()
            try:
                via = Peers(proxy.endpoint)
                for scen in SCENARIOS:
                    for p in names:
                        if not applies(p, scen):
                            continue
                        arr = via.open(p)
                        proxy.reset()
                        with zarr.config.set(PEERS.get(p, (None, None, {}))[2]):
                            run(p, scen, arr, corners)
                        counts[p, scen] = (len(proxy.requests("GET")), len(proxy.requests("HEAD")),
                                           proxy.max_in_flight)
                        via.close()
            finally:
                proxy.stop()
            cold = cold_counts(server.port, corners)
        peers.close()

    n_shards = int(np.prod([-(-s // c) for s, c in zip(shape, shards)]))
    print(f"# S3 read comparison: {shape} uint16 ({mb:.0f} MB), shards {shards}, inner 32^3, zstd-3, "
          f"{n_shards} shards; SeaweedFS on 127.0.0.1; {args.rounds} interleaved rounds, median (min-max); "
          f"load average at round starts: {', '.join(loads)}\n")
    print("| peer | full read MB/s | 64 patches one by one, s | 64 patches all at once, s |")
    print("|---|---|---|---|")

    def cell(p, scen, fmt):
        v = times.get((p, scen))
        if not v:
            return "-"
        if fmt == "mbs":
            return f"{mb / statistics.median(v):.0f} ({mb / max(v):.0f}-{mb / min(v):.0f})"
        return f"{statistics.median(v):.3f} ({min(v):.3f}-{max(v):.3f})"

    for p in names:
        print(f"| {p} | {cell(p, 'full', 'mbs')} | {cell(p, 'one-by-one', 's')} | {cell(p, 'all-at-once', 's')} |")
    print("\nRatios (that peer's median time / ours: > 1 means ours is faster; ours = omezarr_fast obstore, "
          "all-at-once = read_regions):\n")
    print("| peer | full read | one by one | all at once |")
    print("|---|---|---|---|")
    for p in names:
        row = []
        for scen in SCENARIOS:
            v, o = times.get((p, scen)), times.get((OURS, scen))
            row.append(f"{statistics.median(v) / statistics.median(o):.2f}x" if v and o else "-")
        print(f"| {p} | " + " | ".join(row) + " |")
    if counts:
        print("\nRequests per scenario (counting proxy; GET / HEAD / most in flight at once):\n")
        print("| peer | full read | one by one | all at once |")
        print("|---|---|---|---|")
        for p in names:
            row = []
            for scen in SCENARIOS:
                c = counts.get((p, scen))
                row.append(f"{c[0]} / {c[1]} / {c[2]}" if c else "-")
            print(f"| {p} | " + " | ".join(row) + " |")
    if cold:
        print("\nCold open of the array + one patch (a fresh store; metadata GETs / data GETs / HEADs / "
              "other requests):\n")
        print("| peer | requests |")
        print("|---|---|")
        for p, c in cold.items():
            print(f"| {p} | {c[0]} / {c[1]} / {c[2]} / {c[3]} |")


if __name__ == "__main__":
    main()
