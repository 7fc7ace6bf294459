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
