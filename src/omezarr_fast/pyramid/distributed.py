"""Write a pyramid on a dask.distributed cluster: one task per output shard region.

Used by :func:`omezarr_fast.write_image` (through :mod:`omezarr_fast.pyramid.levels`) when it
is given ``client=`` (a ``distributed.Client``), or when ``data`` is a dask array and dask's current scheduler
is a distributed client (``client=None``, the default; ``client=False`` keeps the
single-process writer).

The work is a reduction tree of *stages*.  Each stage cuts the level-0 image into
regions (level-0 coordinates, aligned, clipped at the far edge) and has one task per
region.  A stage owns a run of consecutive levels: every one of their shards lies
inside exactly one of the stage's regions, so each shard of each level has exactly one
writer.  A stage-0 task reads its block of the source (the dask array's block is
computed on the cluster as part of the same graph; a zarr source is read inside the
task through our pipeline), writes level 0 and the levels that fit, downsamples with
the native core (:func:`omezarr_fast.downsample.downsample_block`) and returns only the
first level it does not write: a small array.  A task of the next stage assembles the
pieces of its children (the regions of the previous stage inside its own region),
writes its levels from them and hands on the rest, until the coarsest level.  The
downsampler's cascade (level k is exactly level k-1 downsampled) makes the result
identical, byte for byte, to the single-process writer.

Tasks are idempotent: each rewrites its shards whole, so a task that is retried after
an error or rerun after its worker died leaves the same bytes.  zarr's LocalStore writes
every key to a temporary ``<key>.<uuid hex>.partial`` file and renames it into place,
so a worker killed mid-write never leaves a torn shard; such a leftover temporary file
is removed after all tasks succeed.  The metadata is written last, by the caller, once
every task has succeeded.

Memory per task: the region's first-level data, its downsampled levels and the
encoded shards of one write (a stage-0 region is one level-0 shard, rounded up so that
it holds whole shards of the levels it writes).  dask orders the graph so that source
blocks are consumed by their stage-0 task soon after they are computed.  A numpy source
is scattered to the cluster block by block up front (it is in this process's memory
anyway); use a dask or zarr source for images larger than the client's memory.

The output must be on storage every worker sees (a shared filesystem or an object
store); a local store's root is made absolute before it goes to the workers, and an
object store opened from a URL (:class:`omezarr_fast.store.LocationStore`) pickles as its
location, from which each worker process opens its own.  The
arrays reach the workers pickled with omezarr_fast's pipeline; for arrays that worker
code opens itself, :func:`enable_on_workers` switches zarr over in every worker.
Each worker process uses its own native thread pool (all its cores by default: set
``OMEZARR_FAST_NUM_THREADS`` in the workers' environment when several share a machine).
"""
from __future__ import annotations

import itertools
import math
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omezarr_fast._background import Background
from omezarr_fast.config import enabled
from omezarr_fast.pipeline.store_io import remove_partial_files
from omezarr_fast.pyramid.factors import cumulative, downsample_chain, level_factors
from omezarr_fast.pyramid.sources import as_source, read_zarr

__all__ = ["Stage", "default_client", "enable_on_workers", "plan_stages", "resolve_client",
           "write_pyramid"]

# Retries of a task that raised (a transient store error); a worker that dies is
# handled by the scheduler itself (distributed.scheduler.allowed-failures).
RETRIES = 2


@dataclass(frozen=True)
class Stage:
    """Levels ``first..last`` are written by one task per region of shape ``region``
    (level-0 coordinates); the task returns level ``last + 1`` of its region."""

    first: int
    last: int
    region: tuple[int, ...]


def _grow(region, need, shape):
    # A region that covers an axis stays as it is; otherwise the least common
    # multiple keeps it a whole number of the smaller regions (children tile parents).
    return tuple(r if r >= n else math.lcm(r, q) for r, q, n in zip(region, need, shape))


def _fits(region, span, shape):
    return all(r >= n or r % s == 0 for r, s, n in zip(region, span, shape))


def plan_stages(shape, factors, units) -> list[Stage]:
    """The stages for a pyramid of ``len(units)`` levels of a level-0 ``shape``,
    ``units[l]`` being level l's shard (its write unit); ``factors`` per axis or one
    tuple per level step."""
    nlevels = len(units)
    cum = cumulative(level_factors(factors, nlevels), len(shape))
    # A shard of level l in level-0 coordinates.
    span = [tuple(u * f for u, f in zip(units[lvl], cum[lvl])) for lvl in range(nlevels)]
    stages: list[Stage] = []
    region = tuple(units[0])
    first = 0
    while first < nlevels:
        region = _grow(region, span[first], shape)
        last = first
        while True:
            while last + 1 < nlevels and _fits(region, span[last + 1], shape):
                last += 1
            if last + 1 >= nlevels:
                break
            # The region must also be a whole number of level-(last+1) pixels (the
            # downsampler's alignment rule), which may let more levels fit.
            grown = _grow(region, cum[last + 1], shape)
            if grown == region:
                break
            region = grown
        stages.append(Stage(first, last, region))
        first = last + 1
    return stages


def _level_box(origin, stop, cum, lvl):
    """A level-0 box [origin, stop) in level ``lvl`` coordinates (stop: a multiple of
    the factor, or the image edge, which maps to the level's edge); ``cum``: the
    cumulative factor of every level."""
    return tuple(slice(o // f, -(-e // f)) for o, e, f in zip(origin, stop, cum[lvl]))


@dataclass(frozen=True)
class _Job:
    """What every task needs: pickled into the graph once per task (small: the
    arrays pickle as their metadata and store)."""

    arrays: tuple  # zarr arrays, one per level, using omezarr_fast's pipeline
    shape: tuple[int, ...]
    dtype: np.dtype
    steps: tuple[tuple[int, ...], ...]   # factors of each level step
    cum: tuple[tuple[int, ...], ...]     # cumulative factor of each level
    method: str
    stages: tuple[Stage, ...]

    def box(self, stage: int, idx) -> tuple[tuple[int, ...], tuple[int, ...]]:
        region = self.stages[stage].region
        origin = tuple(i * r for i, r in zip(idx, region))
        stop = tuple(min(o + r, n) for o, r, n in zip(origin, region, self.shape))
        return origin, stop

    def counts(self, stage: int) -> tuple[int, ...]:
        return tuple(-(-n // r) for n, r in zip(self.shape, self.stages[stage].region))

    def children(self, stage: int, idx) -> list[tuple[int, ...]]:
        """The regions of stage ``stage - 1`` inside region ``idx`` of ``stage``."""
        big, small = self.stages[stage].region, self.stages[stage - 1].region
        counts = self.counts(stage - 1)
        ranges = [range(i * (b // s), min((i + 1) * (b // s), c)) if b < n else range(c)
                  for i, b, s, c, n in zip(idx, big, small, counts, self.shape)]
        return list(itertools.product(*ranges))


def _run_stage(job: _Job, stage: int, idx: tuple[int, ...], source, child_data=None):
    """One task: build (stage 0: read) the region's first level, write the stage's
    levels, return the next level's piece of the region (None after the last)."""
    st = job.stages[stage]
    origin, stop = job.box(stage, idx)
    with enabled():
        if stage == 0:
            if isinstance(source, tuple):  # (zarr array, selection): read it here
                data = read_zarr(*source)
            else:
                data = np.asarray(source)
        else:
            data = _assemble(job, stage, idx, child_data)
        del source, child_data
        if data.dtype != job.dtype:
            data = data.astype(job.dtype)
        nlevels = len(job.arrays)
        more = st.last + 1 < nlevels
        first_box = _level_box(origin, stop, job.cum, st.first)
        ndown = st.last - st.first + (1 if more else 0)
        if ndown == 0:
            job.arrays[st.first][first_box] = data
            return None
        # The write's serial tail (the last shards' store writes) overlaps the
        # downsampling, as in the single-process writer.
        write = Background(job.arrays[st.first].__setitem__, first_box, data)
        try:
            outs = downsample_chain(data, job.steps[st.first:st.first + ndown], job.method,
                                    origin=[s.start for s in first_box],
                                    image_shape=job.arrays[st.first].shape)
        finally:
            write.join()
        write.result()
        del data
        for lvl in range(st.first + 1, st.last + 1):
            job.arrays[lvl][_level_box(origin, stop, job.cum, lvl)] = outs[lvl - st.first - 1]
        return outs[-1] if more else None


def _assemble(job: _Job, stage: int, idx, child_data) -> np.ndarray:
    """The children's pieces of level ``first`` as one array over this region."""
    lvl = job.stages[stage].first
    origin, stop = job.box(stage, idx)
    box = _level_box(origin, stop, job.cum, lvl)
    out = np.empty(tuple(s.stop - s.start for s in box), job.dtype)
    kids = job.children(stage, idx)
    if len(kids) != len(child_data):
        raise RuntimeError(f"internal error: {len(child_data)} pieces for {len(kids)} children")
    for kid, piece in zip(kids, child_data):
        o, e = job.box(stage - 1, kid)
        kb = _level_box(o, e, job.cum, lvl)
        sel = tuple(slice(k.start - b.start, k.stop - b.start) for k, b in zip(kb, box))
        out[sel] = piece
    return out


def default_client(data):
    """The distributed client dask would compute ``data`` (a dask array) on, or None."""
    if not type(data).__module__.startswith("dask") or "distributed" not in sys.modules:
        return None
    import dask.base
    from distributed import Client, get_worker
    try:
        get_worker()
        # Inside a task: a nested cluster computation would hold this worker's
        # thread while waiting for others; write in this process instead.
        return None
    except ValueError:
        pass
    try:
        get = dask.base.get_scheduler(collections=[data])
    except (RuntimeError, ValueError):
        return None
    client = getattr(get, "__self__", None)
    return client if isinstance(client, Client) else None


def resolve_client(client, data):
    """``write_image``'s ``client`` argument: the Client to use, or None."""
    if client is None:
        return default_client(data)
    if client is False:
        return None
    Client = getattr(sys.modules.get("distributed"), "Client", None)
    if Client is None or not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client, None or False, "
                        f"got {type(client).__name__}")
    return client


def absolute(array):
    """``array`` with its local store's root made absolute: workers elsewhere (or in
    another directory) must write and read the same files."""
    from zarr.storage import LocalStore

    store = array.store
    if not isinstance(store, LocalStore) or Path(store.root).is_absolute():
        return array
    import zarr

    root = LocalStore(Path(store.root).resolve(), read_only=store.read_only)
    with enabled():
        return zarr.open_array(root, path=array.path, mode="r" if store.read_only else "r+")


def write_pyramid(client, data, arrays, factors, method, progress=False) -> None:
    """Write every level of ``arrays`` (``[(zarr array, write unit), ...]``, level 0
    first, already created) from ``data`` on ``client``'s cluster; returns when all
    tasks have succeeded (or raises the first task's error).  ``progress``: None = a
    text progress bar over all the tasks on a terminal, True/False to force."""
    import dask
    import dask.array as da

    shape = tuple(arrays[0][0].shape)
    dtype = np.dtype(arrays[0][0].dtype)
    steps = tuple(level_factors(factors, len(arrays)))
    stages = plan_stages(shape, steps, [u for _, u in arrays])
    job = _Job(tuple(absolute(a) for a, _ in arrays), shape, dtype, steps,
               tuple(cumulative(steps, len(shape))), method, tuple(stages))
    token = uuid.uuid4().hex[:12]
    run = dask.delayed(_run_stage, pure=False)
    # One key holding the job (shipped to each worker once), not a copy per task.
    job_key = dask.delayed(job, name=f"omezarr-pyramid-job-{token}", traverse=False)

    region0 = tuple(min(r, n) for r, n in zip(stages[0].region, shape))
    counts = job.counts(0)
    if type(data).__module__.startswith("dask"):
        blocks = da.asarray(data).rechunk(region0).to_delayed()
        source = {idx: blocks[idx] for idx in np.ndindex(*counts)}
    else:
        src, _ = as_source(data)
        import zarr
        if isinstance(src, zarr.Array):
            # Read inside the task (the array pickles with our pipeline).
            source = {idx: (src, tuple(slice(o, e) for o, e in zip(*job.box(0, idx))))
                      for idx in np.ndindex(*counts)}
        else:  # in memory here: each block goes to the cluster once
            source = {}
            for idx in np.ndindex(*counts):
                o, e = job.box(0, idx)
                block = np.ascontiguousarray(src[tuple(slice(a, b) for a, b in zip(o, e))])
                source[idx] = client.scatter(block)
    prev: dict = {}
    for s in range(len(stages)):
        name = f"omezarr-pyramid-L{stages[s].first}-{token}"
        cur = {}
        for idx in np.ndindex(*job.counts(s)):
            if s == 0:
                cur[idx] = run(job_key, 0, idx, source.pop(idx), dask_key_name=(name, *idx))
            else:
                kids = [prev[k] for k in job.children(s, idx)]
                cur[idx] = run(job_key, s, idx, None, kids, dask_key_name=(name, *idx))
        prev = cur
    # One graph, so dask orders it: a source block is consumed by its task soon
    # after it is computed, and pieces are merged as soon as their siblings exist.
    futures = client.compute(list(prev.values()), retries=RETRIES)
    try:
        if progress or (progress is None and sys.stderr.isatty()):
            from distributed import progress as progress_bar
            progress_bar(futures, notebook=False)
        client.gather(futures)
    except BaseException:
        client.cancel(futures)  # stop the rest of the tree: nothing more is started
        wait_until_stopped(client, token)
        raise
    remove_partial_files(job.arrays)


def wait_until_stopped(client, token: str, timeout: float = 60.0) -> None:
    """Wait until no task of the job ``token`` is still running on a worker.

    Cancelling does not stop a task that is already running (dask cannot
    interrupt it), and such a task may still write its shard after the caller
    has removed the output; waiting for it first makes that removal final."""
    def running(dask_worker) -> int:
        return sum(token in str(ts.key) for ts in dask_worker.state.executing)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not any(client.run(running).values()):
                return
        except Exception:  # noqa: BLE001  (a cluster that cannot answer: nothing to wait for)
            return
        time.sleep(0.05)


def enable_on_workers(client) -> None:
    """Make zarr use omezarr_fast's pipeline and codecs in every worker of ``client``'s
    cluster, including workers that join or restart later (a worker plugin).

    Arrays that reach workers pickled (``Image.to_dask``, ``write_image``'s tasks)
    carry our pipeline already; this is for arrays that worker code opens itself."""
    from omezarr_fast.pyramid._worker_plugin import EnablePipeline

    client.register_plugin(EnablePipeline())
