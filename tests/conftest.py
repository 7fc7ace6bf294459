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
