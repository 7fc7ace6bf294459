"""What the reader layer's lazy arrays share: numpy's shape vocabulary over
``shape`` and ``dtype``, so the pyramid writer can treat any of them like an
array it slices block by block."""
from __future__ import annotations

__all__ = ["LazyArray"]


class LazyArray:
    """Base of the lazy array views; subclasses set ``shape`` and ``dtype`` and
    implement ``__getitem__`` (a block read)."""

    shape: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype})"
