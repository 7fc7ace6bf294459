"""Fixtures shared by the test packages.  Plain helpers (functions and constants) live in
``tests/helpers/``; test modules import those, never each other."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

import omezarr_fast

S3_BUCKET = "test"


@pytest.fixture
def native_pipeline():
    """zarr uses omezarr_fast's codecs and pipeline for the test, its own after."""
    with omezarr_fast.enabled():
        yield


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """A real S3 server (SeaweedFS on 127.0.0.1) behind a counting, fault-injecting proxy;
    one per session, so one per xdist worker."""
    from helpers.s3_proxy import S3Proxy
    from helpers.s3_server import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"), bucket=S3_BUCKET).start()
    proxy = S3Proxy(server.port, S3_BUCKET).start()
    yield SimpleNamespace(server=server, proxy=proxy, bucket=S3_BUCKET)
    proxy.stop()
    server.stop()


@pytest.fixture
def proxy(s3):
    """The S3 proxy with no faults, no latency and its request log cleared."""
    s3.proxy.clear_faults()
    s3.proxy.latency = 0.0
    s3.proxy.reset()
    yield s3.proxy
    s3.proxy.clear_faults()
    s3.proxy.latency = 0.0


@pytest.fixture(scope="module")
def ozp04(tmp_path_factory):
    """A 0.4 image with a label image, written by ome-zarr-py."""
    pytest.importorskip("ome_zarr")
    from helpers.ome import write_ozp04

    return write_ozp04(tmp_path_factory.mktemp("up") / "ozp04.zarr")


@pytest.fixture(scope="session")
def http_server(tmp_path_factory):
    """A read-only HTTP file server with Range support on 127.0.0.1 (tests/helpers/http_server.py)
    serving a directory of its own: tests put what it should serve under ``http_server.root``."""
    from helpers.http_server import RangeServer

    with RangeServer(tmp_path_factory.mktemp("http-root")) as srv:
        yield srv


@pytest.fixture
def s3_url(s3, proxy, request):
    """A fresh ``s3://`` prefix on the SeaweedFS server, reached through the counting proxy:
    ``.url``, ``.prefix`` (the key prefix as the proxy sees it) and ``.options`` (the
    storage_options that reach it: endpoint, anonymous)."""
    import re
    import uuid

    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:40]
    prefix = f"{name}-{uuid.uuid4().hex[:8]}"
    return SimpleNamespace(url=f"s3://{s3.bucket}/{prefix}", prefix=prefix, bucket=s3.bucket,
                           options={"endpoint": proxy.endpoint, "region": "us-east-1"},
                           env={"AWS_ENDPOINT_URL": proxy.endpoint, "AWS_REGION": "us-east-1"})


@pytest.fixture(scope="module")
def client():
    """A dask.distributed cluster of two single-threaded worker processes, one per test module."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c
