"""Switch zarr over to omezarr_fast's native codecs and codec pipeline."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import zarr

import omezarr_fast.codecs as _codecs  # registers the classes with zarr
import omezarr_fast.pipeline as _pipeline  # registers "omezarr_fast.CodecPipeline" with zarr

__all__ = ["disable", "enable", "enabled"]

CODECS = {name: f"omezarr_fast.codecs.{cls}" for name, cls in {
    "bytes": "BytesCodec", "transpose": "TransposeCodec", "zstd": "ZstdCodec",
    "blosc": "BloscCodec", "gzip": "GzipCodec", "crc32c": "Crc32cCodec"}.items()}
ZARR_CODECS = {name: f"zarr.codecs.{mod}.{cls}" for name, (mod, cls) in {
    "bytes": ("bytes", "BytesCodec"), "transpose": ("transpose", "TransposeCodec"),
    "zstd": ("zstd", "ZstdCodec"), "blosc": ("blosc", "BloscCodec"), "gzip": ("gzip", "GzipCodec"),
    "crc32c": ("crc32c_", "Crc32cCodec")}.items()}

# The native codec pipeline (omezarr_fast.pipeline), and zarr's default to go back to.
_PIPELINE_ON: dict[str, str] = {"codec_pipeline.path": "omezarr_fast.CodecPipeline"}
_PIPELINE_OFF: dict[str, str] = {"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}


def _settings(on: bool) -> dict[str, str]:
    codecs = CODECS if on else ZARR_CODECS
    return {**{f"codecs.{k}": v for k, v in codecs.items()}, **(_PIPELINE_ON if on else _PIPELINE_OFF)}


def enable() -> None:
    """Make zarr use omezarr_fast's codecs and pipeline from now on (process-wide)."""
    assert _codecs and _pipeline  # imported for their registrations
    zarr.config.set(_settings(True))


def disable() -> None:
    """Switch zarr back to its built-in codecs."""
    zarr.config.set(_settings(False))


@contextmanager
def enabled() -> Iterator[None]:
    """omezarr_fast's codecs and pipeline inside the block; the previous settings after."""
    with zarr.config.set(_settings(True)):
        yield
