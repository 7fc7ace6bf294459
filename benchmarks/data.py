"""Benchmark data: the package's own synthetic sample generator."""
from omezarr_fast.samples import microscopy_like

__all__ = ["microscopy_like"]
