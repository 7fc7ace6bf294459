"""The dask.distributed worker plugin of :func:`omezarr_fast.pyramid.distributed.enable_on_workers`
(its own module: importing it imports distributed)."""
from __future__ import annotations

from distributed import WorkerPlugin


class EnablePipeline(WorkerPlugin):
    """Calls :func:`omezarr_fast.enable` in each worker process."""

    name = "omezarr_fast-enable"

    def setup(self, worker):
        import omezarr_fast

        omezarr_fast.enable()
