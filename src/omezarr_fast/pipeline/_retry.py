"""Retries of store requests that failed for a passing reason, and errors
that name the key when the failure persists.

Object stores fail now and then: a 503 SlowDown, a connection reset, a
timeout.  obstore and s3fs retry such errors themselves (obstore: 10
retries with backoff by default; s3fs: botocore's and its own), other
stores may not.  The pipeline wraps each async store call in :func:`call`,
which retries what :func:`is_transient` recognises with exponential backoff
and full jitter, a few times on top of the store's own layer, and raises
:class:`~omezarr_fast.errors.StoreError` naming the key and the operation
when the last attempt fails.  Other errors pass through unchanged.

Settings, in zarr's config (``zarr.config.set({...})`` or environment
variables such as ``ZARR_OMEZARR_FAST__RETRY__ATTEMPTS``):

- ``omezarr_fast.retry.attempts`` (default 3): tries per request, >= 1;
- ``omezarr_fast.retry.base_delay`` (0.1 s): the first backoff's upper
  bound, doubled each retry;
- ``omezarr_fast.retry.max_delay`` (5 s): the largest backoff bound.
"""
from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

import zarr

from omezarr_fast.errors import StoreError

_DEFAULTS = {"attempts": 3, "base_delay": 0.1, "max_delay": 5.0}

# HTTP statuses and S3 error codes that say "try again".
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
_RETRY_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling",
                "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
# obstore reports everything as GenericError text; these are its transport
# failures and retryable statuses.
_OBSTORE_TRANSIENT = re.compile(
    r"status code: (?:408|429|5\d\d)|error sending request|connection (?:closed|reset|refused)|"
    r"timed? ?out|error decoding response body|incomplete message|broken pipe", re.IGNORECASE)
_TRANSPORT_NAMES = {
    # aiohttp
    "ClientConnectionError", "ClientOSError", "ServerDisconnectedError", "ClientPayloadError",
    "ServerTimeoutError", "ClientConnectorError",
    # botocore
    "HTTPClientError", "ConnectionClosedError", "EndpointConnectionError", "ReadTimeoutError",
    "ConnectTimeoutError", "ResponseStreamingError", "IncompleteReadError",
}


def settings() -> dict[str, float]:
    out = {}
    for k, default in _DEFAULTS.items():
        v = zarr.config.get(f"omezarr_fast.retry.{k}", default)
        try:
            out[k] = type(default)(v)
        except (TypeError, ValueError):
            raise ValueError(f"zarr config omezarr_fast.retry.{k}: expected a number, got {v!r}") from None
    if out["attempts"] < 1:
        raise ValueError(f"zarr config omezarr_fast.retry.attempts: must be >= 1, got {out['attempts']}")
    return out


def _one_transient(e: BaseException) -> bool:
    if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    if isinstance(e, (ConnectionError, TimeoutError)):
        return True
    mod = type(e).__module__
    if mod.startswith(("aiohttp", "botocore", "aiobotocore", "urllib3", "http.client")) and any(
            c.__name__ in _TRANSPORT_NAMES for c in type(e).__mro__):
        return True
    resp = getattr(e, "response", None)
    if isinstance(resp, dict):  # botocore ClientError
        status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = resp.get("Error", {}).get("Code")
        return status in _RETRY_STATUS or code in _RETRY_CODES
    if mod.startswith("obstore") and type(e).__name__ == "GenericError":
        # Only the message: its debug dump names fields such as "retry_timeout"
        # whatever the error was (a 416 looked like a timeout).
        return _OBSTORE_TRANSIENT.search(str(e).split("Debug source:")[0]) is not None
    return False


def is_transient(e: BaseException) -> bool:
    """True if e (or an exception it was raised from) is a passing failure:
    a transport error, a timeout, or an HTTP 408/429/5xx answer."""
    seen = 0
    while e is not None and seen < 8:
        if _one_transient(e):
            return True
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
        seen += 1
    return False


def backoff(attempt: int, base: float, cap: float) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(cap, base * (2 ** attempt)))


async def call[T](fn: Callable[[], Awaitable[T]], key: str, op: str, cfg: dict[str, Any] | None = None) -> T:
    """await fn(), retrying transient failures; StoreError naming key when they persist."""
    cfg = cfg or settings()
    attempts = int(cfg["attempts"])
    for attempt in range(attempts):
        try:
            return await fn()
        except Exception as e:
            if not is_transient(e):
                raise
            if attempt + 1 == attempts:
                raise StoreError(f"{op} {key!r} failed after {attempts} attempt(s): "
                                 f"{type(e).__name__}: {_short(e)}", key) from e
            await asyncio.sleep(backoff(attempt, cfg["base_delay"], cfg["max_delay"]))
    raise AssertionError("unreachable")  # pragma: no cover


def _short(e: BaseException) -> str:
    # obstore's messages carry a multi-line debug dump; the first line says it.
    s = str(e).strip().splitlines()
    return s[0][:500] if s else ""


def concurrency() -> int:
    """zarr's ``async.concurrency``: how many store requests run at once."""
    return max(1, int(zarr.config.get("async.concurrency") or 10))


async def gather(calls: list[tuple[Callable[[], Awaitable[Any]], str, str]]) -> list[Any]:
    """Runs (fn, key, op) calls through :func:`call`, at most zarr's
    ``async.concurrency`` at once (the limit zarr's own pipeline and stores
    use); the first error cancels the rest and is raised."""
    cfg = settings()
    sem = asyncio.Semaphore(concurrency())

    async def one(fn, key, op):
        async with sem:
            return await call(fn, key, op, cfg)

    tasks = [asyncio.ensure_future(one(*c)) for c in calls]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.wait(tasks)
        raise
