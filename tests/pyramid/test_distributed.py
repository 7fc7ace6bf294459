"""write_image and Image.to_dask on a real dask.distributed cluster (2 worker processes),
and pickling of the pipeline, codecs and arrays into spawn and fork processes."""
from __future__ import annotations

import collections
import multiprocessing
import os
import pickle
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import zarr

import omezarr_fast
from omezarr_fast import codecs as ozf_codecs
from omezarr_fast.downsample import output_shape
from omezarr_fast.pyramid.distributed import default_client, enable_on_workers, plan_stages
from omezarr_fast.pyramid.layout import level_layout

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
cloudpickle = pytest.importorskip("cloudpickle")

# Workers unpickle the plugin below by value: they need not import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

# Small shards so the pyramid has several stages (a reduction tree, not one task).
LAYOUT = {"chunks": (4, 16, 16), "shards": (8, 32, 32), "levels": 4}


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(7)
    # Not a multiple of any shard: edge regions are partial on every axis.
    return rng.integers(0, 60000, (20, 90, 150), dtype=np.uint16)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


class StoreWrites(distributed.WorkerPlugin):
    """Logs every LocalStore write in the workers to a file (one line per write), and
    optionally kills the worker (os._exit, after writing half a temporary file the way
    zarr's LocalStore does) on the first write of a key under ``kill_under`` when
    ``marker`` does not exist yet."""

    name = "ozf-store-writes"

    def __init__(self, log: str, kill_under: str | None = None, marker: str | None = None):
        self.log, self.kill_under, self.marker = log, kill_under, marker

    def setup(self, worker):
        import zarr.storage._local as local
        self._local, self._orig = local, local._put
        log, kill_under, marker, orig = self.log, self.kill_under, self.marker, local._put

        def put(path, value, exclusive=False):
            with open(log, "a") as f:
                f.write(f"{os.getpid()} {path}\n")
            if kill_under and str(path).startswith(kill_under) and not os.path.exists(marker):
                open(marker, "w").close()
                data = bytes(value.as_buffer_like())
                path.parent.mkdir(parents=True, exist_ok=True)
                path.with_suffix(f".{uuid.uuid4().hex}.partial").write_bytes(data[:len(data) // 2])
                os._exit(1)
            return orig(path, value, exclusive)

        local._put = put

    def teardown(self, worker):
        self._local._put = self._orig


def _writes(log: Path, root: Path) -> collections.Counter:
    lines = log.read_text().splitlines() if log.exists() else []
    return collections.Counter(Path(line.split(" ", 1)[1]).relative_to(root).as_posix()
                               for line in lines)


@pytest.fixture
def store_writes(client, tmp_path):
    """Register StoreWrites on the cluster for one test; yields a function that
    registers it (with optional kill settings) and returns the log path."""
    log = tmp_path / "writes.log"
    registered = []

    def register(**kill):
        client.register_plugin(StoreWrites(str(log), **kill))
        registered.append(True)
        return log

    yield register
    if registered:
        client.unregister_worker_plugin(StoreWrites.name)


@pytest.mark.parametrize("source,kw", [
    ("dask", LAYOUT),
    ("dask", {**LAYOUT, "version": "0.4"}),
    ("zarr", LAYOUT),
    ("numpy", {"chunks": (8, 32, 32), "shards": (16, 64, 64), "method": "max"}),
    ("dask", {**LAYOUT, "factors": {"z": 1}}),
    ("dask", {**LAYOUT, "factors": (1, 3, 2), "levels": 3}),
])
def test_identical_to_single_process_and_each_shard_written_once(client, image, tmp_path,
                                                                  store_writes, source, kw):
    ref = omezarr_fast.write_image(image, tmp_path / "ref.zarr", client=False, **kw)
    if source == "dask":
        data = da.from_array(image, chunks=(7, 40, 33))  # not aligned to the shards
    elif source == "zarr":
        data = zarr.create_array(tmp_path / "src.zarr", shape=image.shape, dtype=image.dtype,
                                 chunks=(10, 45, 50))
        data[:] = image
    else:
        data = image
    log = store_writes()
    out = omezarr_fast.write_image(data, tmp_path / "out.zarr", client=client, **kw)
    expected = _files(ref)
    assert _files(out) == expected
    writes = _writes(log, out)
    data_keys = {k for k in expected if not k.endswith(("zarr.json", ".zarray", ".zattrs",
                                                        ".zgroup"))}
    assert set(writes) == data_keys  # every chunk/shard file written by a worker
    assert set(writes.values()) == {1}  # and never twice
    pids = {int(line.split()[0]) for line in log.read_text().splitlines()}
    assert os.getpid() not in pids and len(pids) >= 1


@pytest.mark.parametrize("shape,kw", [
    ((300, 170), {"chunks": (32, 32), "shards": (64, 64)}),
    ((2, 3, 9, 70, 50), {"chunks": (1, 1, 4, 16, 16), "shards": (1, 1, 8, 32, 32),
                         "method": "mode"}),
])
def test_other_dimensionalities(client, tmp_path, shape, kw):
    image = np.random.default_rng(3).integers(0, 9, shape, dtype=np.uint8)
    ref = omezarr_fast.write_image(image, tmp_path / "ref.zarr", client=False, **kw)
    out = omezarr_fast.write_image(da.from_array(image, chunks=13), tmp_path / "out.zarr",
                                   client=client, **kw)
    assert _files(out) == _files(ref)


def test_dask_array_uses_the_current_distributed_client(client, image, tmp_path, store_writes):
    log = store_writes()
    # client=None and the module's Client is dask's default scheduler.
    out = omezarr_fast.write_image(da.from_array(image, chunks=(20, 45, 75)),
                                   tmp_path / "auto.zarr", **LAYOUT)
    assert _writes(log, out)
    ref = omezarr_fast.write_image(image, tmp_path / "ref.zarr", client=False, **LAYOUT)
    assert _files(out) == _files(ref)


def test_killed_task_is_retried_and_leaves_no_corrupt_shard(client, image, tmp_path,
                                                            store_writes):
    kw = {**LAYOUT, "levels": 5}
    shape = image.shape
    units = []
    s = shape
    for k in range(kw["levels"]):
        units.append(level_layout(s, kw["chunks"], kw["shards"], (2 ** k,) * 3)[1])
        s = output_shape(s, (2, 2, 2))
    stages = plan_stages(shape, (2, 2, 2), units)
    # A task that writes two levels: kill it at its second level, after the first
    # level's shards are in place.
    multi = next(st for st in stages if st.last > st.first)
    out = tmp_path / "out.zarr"
    marker = tmp_path / "killed"
    log = store_writes(kill_under=str(out / str(multi.first + 1)), marker=str(marker))
    omezarr_fast.write_image(da.from_array(image, chunks=(10, 45, 75)), out, client=client, **kw)
    assert marker.exists()  # the worker did die
    writes = _writes(log, out)
    assert any(n > 1 for k, n in writes.items() if k.startswith(f"{multi.first + 1}/"))
    ref = omezarr_fast.write_image(image, tmp_path / "ref.zarr", client=False, **kw)
    assert _files(out) == _files(ref)  # no torn shard, no leftover temporary file
    assert not list(out.rglob("*.partial"))


@pytest.mark.parametrize("version", ["0.5", "0.4"])
def test_to_dask_one_task_per_shard(client, image, tmp_path, version):
    path = omezarr_fast.write_image(image, tmp_path / "img.zarr", client=False,
                                    version=version, **LAYOUT)
    img = omezarr_fast.open_image(path)
    for level in (0, 2):
        arr = img.levels[level]
        unit = arr.shards if version == "0.5" else arr.chunks
        x = img.to_dask(level)
        nunits = int(np.prod([-(-n // u) for n, u in zip(arr.shape, unit)]))
        assert x.npartitions == nunits
        assert len(x.__dask_graph__()) == nunits  # one task per shard, nothing else
        got = client.compute(x).result()  # explicitly on the cluster
        np.testing.assert_array_equal(got, arr[:])
    # The array reaches the workers with our pipeline.
    assert client.submit(omezarr_fast.pipeline_info, img.levels[0]).result() == "native"


# -- pickling into spawn and fork processes --------------------------------------------------

def _child(blob: bytes):
    obj = pickle.loads(blob)
    if isinstance(obj, zarr.Array):
        return (type(obj._async_array.codec_pipeline).__qualname__,
                omezarr_fast.pipeline_info(obj), obj[:].tobytes())
    return pickle.dumps(obj)


@pytest.fixture(scope="module")
def small_array(tmp_path_factory):
    path = tmp_path_factory.mktemp("pickle") / "a.zarr"
    with omezarr_fast.enabled():
        a = zarr.create_array(path, shape=(40, 50), dtype="i4", chunks=(8, 16), shards=(16, 32),
                              compressors=zarr.codecs.ZstdCodec(level=1))
        a[:] = np.arange(2000, dtype="i4").reshape(40, 50)
    with omezarr_fast.enabled():
        return zarr.open_array(path, mode="r")


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_pickles_into_worker_processes(method, small_array):
    pipeline = small_array._async_array.codec_pipeline
    assert isinstance(pipeline, omezarr_fast.CodecPipeline)
    small_array[:2, :2]  # the native plan cache is filled: it must not be pickled
    codecs = [ozf_codecs.ZstdCodec(level=5), ozf_codecs.BloscCodec(cname="lz4", typesize=2),
              ozf_codecs.GzipCodec(level=3), ozf_codecs.Crc32cCodec(), ozf_codecs.BytesCodec()]
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(1) as pool:
        back = pickle.loads(pool.apply(_child, (pickle.dumps(pipeline),)))
        assert type(back) is type(pipeline) and back == pipeline
        for c in codecs:
            got = pickle.loads(pool.apply(_child, (pickle.dumps(c),)))
            assert type(got) is type(c) and got == c
        store = small_array.store
        back = pickle.loads(pool.apply(_child, (pickle.dumps(store),)))
        assert type(back) is type(store) and back == store
        kind, info, data = pool.apply(_child, (pickle.dumps(small_array),))
    assert kind == "CodecPipeline" and info == "native"
    assert data == small_array[:].tobytes()


def test_labels_on_the_cluster(client, image, tmp_path):
    labels = (image // 15000).astype(np.uint8)
    for where, c in (("ref", False), ("out", client)):
        path = omezarr_fast.write_image(image, tmp_path / f"{where}.zarr", client=False, **LAYOUT)
        omezarr_fast.write_labels(da.from_array(labels, chunks=(10, 45, 75)), path, "cells",
                                  client=c, chunks=LAYOUT["chunks"], shards=LAYOUT["shards"])
    assert _files(tmp_path / "out.zarr") == _files(tmp_path / "ref.zarr")


def _fail_on_second_block(block, block_info=None):
    if block_info[None]["chunk-location"] == (0, 1, 0):
        raise OSError("source block unreadable")
    return block


def test_a_failing_task_raises_and_leaves_no_metadata(client, image, tmp_path):
    data = da.from_array(image, chunks=(8, 32, 32)).map_blocks(_fail_on_second_block,
                                                               dtype=image.dtype)
    out = tmp_path / "out.zarr"
    with pytest.raises(OSError, match="source block unreadable"):
        omezarr_fast.write_image(data, out, client=client, **LAYOUT)
    # Nothing half-written is left behind (issue 15: a failed write removes its output).
    assert not out.exists()


def test_which_scheduler(client, image, tmp_path):
    d = da.from_array(image, chunks=(10, 45, 75))
    assert default_client(d) is client  # the module's Client is dask's default
    with dask.config.set(scheduler="threads"):
        assert default_client(d) is None
    assert default_client(image) is None  # only dask arrays go to the cluster by default
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        omezarr_fast.write_image(image, tmp_path / "x.zarr", client="yes")
    # Inside a task the pyramid is written in the worker's process, not nested.
    assert client.submit(default_client, d).result() is None


def _open_in_worker(path):
    return type(zarr.open_array(path, mode="r")._async_array.codec_pipeline).__qualname__


def test_enable_on_workers(client, small_array):
    path = str(small_array.store.root)
    assert set(client.run(_open_in_worker, path).values()) == {"BatchedCodecPipeline"}
    enable_on_workers(client)
    try:
        assert set(client.run(_open_in_worker, path).values()) == {"CodecPipeline"}
    finally:
        client.unregister_worker_plugin("omezarr_fast-enable")
        client.run(omezarr_fast.disable)


def test_relative_paths_reach_the_workers_absolute(client, image, tmp_path, monkeypatch):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    monkeypatch.chdir(here)
    cwd = client.run(os.getcwd)
    client.run(os.chdir, str(there))  # the workers run in another directory
    try:
        omezarr_fast.write_image(da.from_array(image, chunks=(10, 45, 75)), "rel.zarr",
                                 client=client, **LAYOUT)
        x = omezarr_fast.open_image("rel.zarr").to_dask(1)
        got = client.compute(x).result()
    finally:
        for addr, d in cwd.items():
            client.run(os.chdir, d, workers=[addr])
    assert not list(there.iterdir())
    ref = omezarr_fast.write_image(image, tmp_path / "ref.zarr", client=False, **LAYOUT)
    assert _files(here / "rel.zarr") == _files(ref)
    np.testing.assert_array_equal(got, omezarr_fast.open_image(ref).levels[1][:])
