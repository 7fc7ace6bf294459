"""omezarr_fast.pipeline._retry on its own: settings and which failures are transient
(the retries against a real S3 server are in test_object_store.py)."""
from __future__ import annotations

import pytest
import zarr

from omezarr_fast.pipeline import _retry


def test_retry_settings_validated():
    with (zarr.config.set({"omezarr_fast.retry.attempts": 0}),
          pytest.raises(ValueError, match="omezarr_fast.retry.attempts")):
        _retry.settings()
    with (zarr.config.set({"omezarr_fast.retry.base_delay": "soon"}),
          pytest.raises(ValueError, match="omezarr_fast.retry.base_delay")):
        _retry.settings()


def test_transient_classification():
    assert _retry.is_transient(ConnectionResetError())
    assert _retry.is_transient(TimeoutError())
    assert not _retry.is_transient(FileNotFoundError("x"))
    assert not _retry.is_transient(ValueError("x"))
    try:
        try:
            raise ConnectionResetError("peer")
        except ConnectionResetError as e:
            raise OSError(5, "wrapped") from e
    except OSError as e:
        assert _retry.is_transient(e)
    for d in range(20):
        assert 0 <= _retry.backoff(d, 0.1, 2.0) <= 2.0


def test_obstore_debug_dump_is_not_the_message():
    """obstore's errors end in a debug dump that always names retry_timeout:
    a 416 (a range past the end of the object) is not a timeout."""
    pytest.importorskip("obstore")
    from obstore.exceptions import GenericError

    dump = "\n\nDebug source:\nGeneric { store: \"S3\", retries: 0, retry_timeout: 30s }"
    assert not _retry.is_transient(GenericError(
        "Generic S3 error: Server returned non-2xx status code: 416 Range Not Satisfiable" + dump))
    assert _retry.is_transient(GenericError(
        "Generic S3 error: Server returned non-2xx status code: 503 Slow Down" + dump))
    assert _retry.is_transient(GenericError("Generic S3 error: operation timed out" + dump))
