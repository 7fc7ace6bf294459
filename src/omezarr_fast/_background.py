"""One call on a helper thread, joined later: overlaps Python-side I/O with native work.

Not a pool: native compute runs on the one C thread pool; these threads only wait on
stores and files while that pool works.
"""
from __future__ import annotations

import threading


class Background(threading.Thread):
    """fn(*args) on a helper thread; result() joins and returns or re-raises."""

    def __init__(self, fn, *args):
        super().__init__(daemon=True, name="omezarr_fast-background")
        self._fn, self._args = fn, args
        self._value = self._error = None
        self.start()

    def run(self):
        try:
            self._value = self._fn(*self._args)
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            self._error = e

    def result(self):
        self.join()
        if self._error is not None:
            raise self._error
        return self._value
