"""Small helpers the writers and the command share: output paths, progress, optional imports."""
from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from types import ModuleType

from omezarr_fast.errors import OutputExistsError

__all__ = ["LineProgress", "optional_import", "prepare_path", "progress", "require"]


def prepare_path(path, overwrite: bool) -> Path:
    """``path`` as a Path, cleared first when it exists and ``overwrite`` (else
    :class:`~omezarr_fast.errors.OutputExistsError`, a FileExistsError)."""
    path = Path(path)
    if path.exists():
        if not overwrite:
            raise OutputExistsError(path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return path


def optional_import(name: str) -> ModuleType | None:
    """The module, or None when it (an optional dependency) is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def require(name: str, purpose: str, error: type[Exception] = ImportError) -> ModuleType:
    """The module; ``error`` saying which extra installs it when it is missing."""
    module = optional_import(name)
    if module is None:
        raise error(f"{purpose} needs {name.partition('.')[0]}: pip install 'omezarr_fast[cli]'")
    return module


class LineProgress:
    """A plain one-line progress display on stderr, for when rich is not installed:
    ``description: done/total`` rewritten in place, a newline at the end."""

    def __init__(self, total: int, description: str, stream=None):
        self.total, self.description = total, description
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self._show()

    def _show(self) -> None:
        self.stream.write(f"\r{self.description}: {self.done}/{self.total}")
        self.stream.flush()

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._show()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class _RichProgress:
    def __init__(self, rich_progress, rich_console, total: int, description: str):
        self.bar = rich_progress.Progress(transient=True, console=rich_console.Console(stderr=True))
        self.bar.start()
        self.task = self.bar.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        self.bar.update(self.task, advance=n)

    def close(self) -> None:
        self.bar.stop()


def progress(enabled, total: int, description: str):
    """A progress display with ``advance()`` and ``close()`` when asked (True) or, by
    default (None), when stderr is a terminal; None when off.  rich draws a bar when it
    is installed (the ``cli`` extra); otherwise a plain line does."""
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return None
    rich_progress = optional_import("rich.progress")
    rich_console = optional_import("rich.console")
    if rich_progress is None or rich_console is None:
        return LineProgress(total, description)
    return _RichProgress(rich_progress, rich_console, total, description)
