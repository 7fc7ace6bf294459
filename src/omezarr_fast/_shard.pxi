# Chunk and shard kernels for the codec pipeline (csrc/shard.c).
#
# ChunkKernel: one codec chain and chunk shape; reads (decode + scatter into
# a caller array) and writes (gather + encode) many chunks in one call.
# ShardKernel: sharding_indexed over a ChunkKernel for the inner chunks.
#
# A box (Python side) is (start, step, count, byte_offset, strides): a basic
# selection inside one chunk (or shard), per dimension, and where its first
# element sits in the caller array (byte offset from element 0) with that
# array's byte stride for each chunk dimension (0 for dropped dimensions or
# broadcast values).  Every box is checked against the array's memory before
# C touches it.
from libc.stdint cimport uint64_t, int64_t, uintptr_t
from libc.stdlib cimport realloc
from libc.string cimport memcpy, memset
from omezarr_fast._lib.shard cimport *

import itertools as _itertools

# Inner-chunk read tasks per native call: enough for the pool to balance,
# few enough that their table (about 1.3 KiB each) stays small.
cdef enum:
    _TASK_BATCH = 4096


ctypedef struct _inner_iter:
    # Walks the inner chunks one shard box touches: per dimension the inner
    # chunk indices (J), start and count inside them (IS, IC) and the byte
    # offset in the caller array (AO); idx is the odometer over them.
    int nd
    bint done
    size_t nper[OZF_MAXDIM]
    size_t idx[OZF_MAXDIM]
    size_t* J[OZF_MAXDIM]
    size_t* IS[OZF_MAXDIM]
    size_t* IC[OZF_MAXDIM]
    int64_t* AO[OZF_MAXDIM]
    size_t* buf
    int64_t* abuf


cdef tuple _array_span(object arr):
    """(base address, lowest and highest+1 byte offset reachable from element 0)."""
    base = <uintptr_t>arr.__array_interface__["data"][0]
    lo = 0
    hi = arr.dtype.itemsize
    for n, s in zip(arr.shape, arr.strides):
        if n == 0:
            return base, 0, 0
        if s > 0:
            hi += (n - 1) * s
        else:
            lo += (n - 1) * s
    return base, lo, hi


cdef int _parse_box(ozf_box* b, object box, size_t itemsize, tuple shape, tuple span) except -1:
    start, step, count, offset, strides = box
    cdef int nd = len(shape), d
    if not (len(start) == len(step) == len(count) == len(strides) == nd):
        raise ValueError(f"box {box!r} does not match a {nd}-d chunk")
    b.ndim = nd
    b.itemsize = itemsize
    lo = offset
    hi = offset + itemsize
    empty = False
    for d in range(nd):
        b.shape[d] = shape[d]
        if step[d] < 1 or start[d] < 0 or count[d] < 0:
            raise ValueError(f"box {box!r}: bad start/step/count")
        if count[d] == 0:
            empty = True
        elif start[d] + (count[d] - 1) * step[d] >= shape[d]:
            raise ValueError(f"box {box!r} reaches past the chunk {shape}")
        b.start[d] = start[d]
        b.step[d] = step[d]
        b.count[d] = count[d]
        b.stride[d] = strides[d]
        if count[d] > 0:
            if strides[d] > 0:
                hi += (count[d] - 1) * strides[d]
            else:
                lo += (count[d] - 1) * strides[d]
    base, alo, ahi = span
    if not empty and (lo < alo or hi > ahi):
        raise ValueError(f"box {box!r} reaches outside the array")
    b.arr = <uint8_t*><uintptr_t>(base + offset)
    return 0


cdef class ChunkKernel:
    """A compiled codec chain for one chunk shape, dtype and fill value."""
    cdef ozf_chain c
    cdef readonly bytes fill
    cdef readonly size_t nbytes, bound, read_bound, itemsize
    cdef readonly tuple shape

    def __cinit__(self, list codecs, tuple chunk_shape, dtype, bytes fill):
        fill_chain(&self.c, codecs, chunk_shape, dtype)
        self.itemsize = _np.dtype(dtype).itemsize
        if len(fill) != self.itemsize:
            raise ValueError(f"fill must be {self.itemsize} bytes, got {len(fill)}")
        self.fill = fill
        self.shape = tuple(chunk_shape)
        self.nbytes = ozf_chain_nbytes(&self.c)
        self.bound = ozf_chain_encode_bound(&self.c)
        self.read_bound = ozf_chain_read_bound(&self.c)

    def read(self, list items, arr, bint shared=False):
        """items: (box, src) pairs; src is the encoded chunk, None for a
        missing chunk (fill value), or (fd, offset, length): bytes of an open
        file that the task reads itself.  shared: items may name the same
        bytes, which are then decoded once (ozf_read_tasks).  Raises
        CodecError whose .index is the failing item."""
        cdef size_t n = len(items), i
        cdef ozf_read_task* t = <ozf_read_task*>malloc((n + 1) * sizeof(ozf_read_task))
        cdef ozf_status* st = <ozf_status*>malloc((n + 1) * sizeof(ozf_status))
        cdef const uint8_t[::1] v
        cdef size_t failed
        cdef const uint8_t* fp = self.fill
        keep = []
        try:
            if not (t and st):
                raise MemoryError()
            if not arr.flags.writeable:
                raise ValueError("out is read-only")
            span = _array_span(arr)
            for i in range(n):
                box, src = items[i]
                _parse_box(&t[i].box, box, self.itemsize, self.shape, span)
                t[i].fd = -1
                t[i].offset = 0
                if src is None:
                    t[i].src = NULL
                    t[i].srclen = 0
                elif isinstance(src, tuple):
                    fd, offset, length = src
                    if fd < 0 or offset < 0 or length < 0:
                        raise ValueError(f"bad file span {src!r}")
                    t[i].src = NULL
                    t[i].fd = fd
                    t[i].offset = offset
                    t[i].srclen = length
                else:
                    v = _u8(src)
                    keep.append(v)
                    t[i].src = _ptr(v)
                    t[i].srclen = v.shape[0]
            with nogil:
                failed = ozf_read_tasks(&self.c, n, t, fp, st, shared)
            if failed:
                for i in range(n):
                    if st[i].code:
                        raise_status(&st[i], i)
        finally:
            free(t)
            free(st)

    def write(self, list items, arr, bint write_empty, out=None, list slots=None):
        """items: (box, old) pairs, old None or the chunk's current encoded
        bytes.  Returns one uint8 array (the encoded chunk) or None (all fill
        value: delete it) per item.  out and slots (optional): a uint8 array
        and, per item, the byte offset in it where that item is encoded (room
        for self.bound bytes); by default a new array holds them."""
        cdef size_t n = len(items), i
        cdef ozf_write_task* t = <ozf_write_task*>malloc((n + 1) * sizeof(ozf_write_task))
        cdef ozf_status* st = <ozf_status*>malloc((n + 1) * sizeof(ozf_status))
        cdef const uint8_t[::1] v
        cdef uint8_t[::1] outv
        cdef size_t failed
        cdef const uint8_t* fp = self.fill
        keep = []
        try:
            if not (t and st):
                raise MemoryError()
            span = _array_span(arr)
            if out is None:
                out = _np.empty(n * self.bound, dtype=_np.uint8)
                slots = [i * self.bound for i in range(n)]
            elif slots is None or len(slots) != n:
                raise ValueError("slots must give one offset per item")
            outv = out
            for i in range(n):
                if self.bound and not (0 <= slots[i] and slots[i] + self.bound <= outv.shape[0]):
                    raise ValueError(f"slot {slots[i]} does not fit in out")
                box, old = items[i]
                _parse_box(&t[i].box, box, self.itemsize, self.shape, span)
                if old is None:
                    t[i].old = NULL
                    t[i].oldlen = 0
                else:
                    v = _u8(old)
                    keep.append(v)
                    t[i].old = _ptr(v)
                    t[i].oldlen = v.shape[0]
                t[i].dst = &outv[0] + <size_t>slots[i] if self.bound else NULL
            with nogil:
                failed = ozf_write_tasks(&self.c, n, t, fp, write_empty, st)
            if failed:
                for i in range(n):
                    if st[i].code:
                        raise_status(&st[i], i)
            return [None if t[i].empty else out[slots[i]:slots[i] + t[i].dstlen] for i in range(n)]
        finally:
            free(t)
            free(st)


cdef class ShardKernel:
    """sharding_indexed with a native inner chain and a bytes(+crc32c) index."""
    cdef readonly ChunkKernel inner
    cdef readonly tuple shape, chunks_per_shard
    cdef readonly size_t n_inner, index_size
    cdef readonly bint index_at_start, checksum, big
    cdef object order_, rank_

    def __cinit__(self, ChunkKernel inner, tuple shard_shape, bint index_at_start, bint checksum,
                  bint big):
        if len(shard_shape) != len(inner.shape):
            raise ValueError("shard and inner chunk shapes differ in length")
        cps = []
        for s, c in zip(shard_shape, inner.shape):
            if c < 1 or s % c:
                raise ValueError(f"inner chunk shape {inner.shape} does not divide the shard {shard_shape}")
            cps.append(s // c)
        self.inner = inner
        self.shape = tuple(shard_shape)
        self.chunks_per_shard = tuple(cps)
        self.n_inner = 1
        for c in cps:
            self.n_inner *= c
        self.index_at_start = index_at_start
        self.checksum = checksum
        self.big = big
        self.index_size = ozf_shard_index_size(self.n_inner, checksum)

    def set_order(self, order):
        """The order inner chunks are laid out in a shard (linear indices): a
        sequence, or a callable returning one, called on the first write
        (reads never need it, so a read never builds a table sized by the
        inner-chunk count)."""
        self.order_ = order if callable(order) else self._check_order(order)
        self.rank_ = None

    cdef object _check_order(self, order):
        order = _np.asarray(order, dtype=_np.uintp).reshape(-1)
        if order.shape[0] != self.n_inner or (self.n_inner and not _np.array_equal(
                _np.bincount(order, minlength=self.n_inner), _np.ones(self.n_inner, _np.intp))):
            raise ValueError("order must be a permutation of the inner chunks")
        return order

    cdef tuple _layout(self):
        """(order, rank) for writing, or (None, None) for index order."""
        if self.order_ is None:
            return None, None
        if callable(self.order_):
            self.order_ = self._check_order(self.order_())
        if self.rank_ is None:
            rank = _np.empty(self.n_inner, dtype=_np.uintp)
            rank[self.order_] = _np.arange(self.n_inner, dtype=_np.uintp)
            self.rank_ = rank
        return self.order_, self.rank_

    def decode_index(self, index, shard_len=None):
        """The (n_inner, 2) uint64 (offset, nbytes) table; CodecError if the
        index is corrupt.  shard_len (None: unknown) bounds the offsets."""
        cdef const uint8_t[::1] v = _u8(index)
        cdef ozf_status st
        cdef uint64_t slen = 0xFFFFFFFFFFFFFFFF if shard_len is None else shard_len
        cdef uint64_t lo, hi
        if <size_t>v.shape[0] != self.index_size:  # before allocating anything sized by the index
            raise CodecError(f"shard index is {v.shape[0]} bytes, expected {self.index_size}")
        pairs = _np.empty((self.n_inner, 2), dtype=_np.uint64)
        cdef uint64_t[:, ::1] p = pairs
        if self.index_at_start:
            lo, hi = 0, self.index_size
        elif shard_len is None:
            lo, hi = slen, slen
        else:
            lo, hi = shard_len - self.index_size, shard_len
        cdef const uint8_t* vp = _ptr(v)
        cdef size_t vn = v.shape[0]
        with nogil:
            rc = ozf_shard_index_decode(vp, vn, self.n_inner, self.checksum, self.big,
                                        slen, lo, hi, &p[0, 0] if self.n_inner else NULL, &st)
        if rc:
            raise_status(&st)
        return pairs

    def split(self, shard):
        """(index pairs, index buffer) of a whole shard; CodecError if it is corrupt."""
        v = _u8(shard)
        n = len(v)
        if n < self.index_size:
            raise CodecError(f"shard is {n} bytes, shorter than its {self.index_size}-byte index")
        idx = v[:self.index_size] if self.index_at_start else v[n - self.index_size:]
        return self.decode_index(idx, n)

    cdef list _plan(self, ozf_box* sb, tuple span):
        """The inner chunks a shard box touches: [(linear index, inner box tuple)]."""
        cdef int nd = sb.ndim, d
        per_dim = []
        for d in range(nd):
            ics = self.inner.shape[d]
            start, step, count, stride = sb.start[d], sb.step[d], sb.count[d], sb.stride[d]
            entries = []
            if count:
                last = start + (count - 1) * step
                for j in range(start // ics, last // ics + 1):
                    lo = j * ics
                    k0 = max(0, -((start - lo) // step))  # ceil((lo - start) / step)
                    k1 = min(count, -((start - lo - ics) // step))
                    if k1 > k0:
                        entries.append((j, start + k0 * step - lo, k1 - k0, k0 * stride))
            per_dim.append(entries)
        out = []
        base_off = <uintptr_t>sb.arr - <uintptr_t>span[0]
        steps = tuple(sb.step[d] for d in range(nd))
        strides = tuple(sb.stride[d] for d in range(nd))
        cps = self.chunks_per_shard
        for combo in _itertools.product(*per_dim):
            lin = 0
            off = base_off
            for d in range(nd):
                lin = lin * cps[d] + combo[d][0]
                off += combo[d][3]
            out.append((lin, (tuple(e[1] for e in combo), steps, tuple(e[2] for e in combo),
                              off, strides)))
        return out

    def touched(self, box, arr):
        """Linear indices of the inner chunks the shard box touches."""
        cdef ozf_box sb
        span = _array_span(arr)
        _parse_box(&sb, box, self.inner.itemsize, self.shape, span)
        return [lin for lin, _ in self._plan(&sb, span)]

    cdef int _iter_init(self, _inner_iter* it, ozf_box* sb) noexcept nogil:
        """Sets it up to walk the inner chunks the shard box touches (the
        same arithmetic as _plan, without Python).  Its tables are sized by
        the inner chunks touched per dimension.  -1: out of memory."""
        cdef int nd = sb.ndim, d
        cdef size_t ics, j, lo, k0, k1, start, step, count, last, total = 0, m
        memset(it, 0, sizeof(_inner_iter))
        it.nd = nd
        it.done = 0
        for d in range(nd):
            if sb.count[d] == 0:
                it.done = 1
                return 0
            ics = self.inner.c.shape[d]
            total += (sb.start[d] + (sb.count[d] - 1) * sb.step[d]) // ics - sb.start[d] // ics + 1
        it.buf = <size_t*>malloc((3 * total + 1) * sizeof(size_t))
        it.abuf = <int64_t*>malloc((total + 1) * sizeof(int64_t))
        if it.buf == NULL or it.abuf == NULL:
            free(it.buf)
            free(it.abuf)
            it.buf = NULL
            it.abuf = NULL
            return -1
        total = 0
        for d in range(nd):
            ics = self.inner.c.shape[d]
            start = sb.start[d]
            step = sb.step[d]
            count = sb.count[d]
            last = start + (count - 1) * step
            m = last // ics - start // ics + 1
            it.J[d] = it.buf + 3 * total
            it.IS[d] = it.J[d] + m
            it.IC[d] = it.IS[d] + m
            it.AO[d] = it.abuf + total
            total += m
            it.nper[d] = 0
            for j in range(start // ics, last // ics + 1):
                lo = j * ics
                k0 = 0 if lo <= start else (lo - start + step - 1) // step
                k1 = (lo + ics - start + step - 1) // step
                if k1 > count:
                    k1 = count
                if k1 > k0:
                    it.J[d][it.nper[d]] = j
                    it.IS[d][it.nper[d]] = start + k0 * step - lo
                    it.IC[d][it.nper[d]] = k1 - k0
                    it.AO[d][it.nper[d]] = <int64_t>k0 * sb.stride[d]
                    it.nper[d] += 1
            if it.nper[d] == 0:
                it.done = 1
            it.idx[d] = 0
        return 0

    cdef size_t _iter_fill(self, _inner_iter* it, ozf_box* sb, const uint64_t* pairs,
                           const uint8_t* base, int fd, ozf_read_task* out, size_t cap) noexcept nogil:
        """Fills out with up to cap read tasks, the next inner chunks of it
        (a whole shard in memory at base, or in the open file fd when base is
        NULL; its index already validated); returns how many."""
        cdef int nd = it.nd, d
        cdef size_t n = 0, lin
        cdef ozf_read_task* t
        cdef uint64_t off
        while not it.done and n < cap:
            t = &out[n]
            t.box.ndim = nd
            t.box.itemsize = sb.itemsize
            t.box.arr = sb.arr
            lin = 0
            for d in range(nd):
                lin = lin * (sb.shape[d] // self.inner.c.shape[d]) + it.J[d][it.idx[d]]
                t.box.shape[d] = self.inner.c.shape[d]
                t.box.start[d] = it.IS[d][it.idx[d]]
                t.box.step[d] = sb.step[d]
                t.box.count[d] = it.IC[d][it.idx[d]]
                t.box.stride[d] = sb.stride[d]
                t.box.arr += it.AO[d][it.idx[d]]
            off = pairs[2 * lin]
            t.fd = -1
            t.offset = 0
            if off == <uint64_t>(-1):
                t.src = NULL
                t.srclen = 0
            elif base == NULL:
                t.src = NULL
                t.fd = fd
                t.offset = off
                t.srclen = pairs[2 * lin + 1]
            else:
                t.src = base + off
                t.srclen = pairs[2 * lin + 1]
            n += 1
            d = nd - 1
            while d >= 0:
                it.idx[d] += 1
                if it.idx[d] < it.nper[d]:
                    break
                it.idx[d] = 0
                d -= 1
            if d < 0:
                it.done = 1
        return n

    cdef void _run_tasks(self, ozf_read_task* tasks, size_t* owner, size_t n, bint shared) except *:
        cdef ozf_status* st = <ozf_status*>malloc((n + 1) * sizeof(ozf_status))
        cdef const uint8_t* fp = self.inner.fill
        cdef size_t failed, k
        if st == NULL:
            raise MemoryError()
        try:
            with nogil:
                failed = ozf_read_tasks(&self.inner.c, n, tasks, fp, st, shared)
            if failed:
                for k in range(n):
                    if st[k].code:
                        raise_status(&st[k], owner[k], "inner chunk: ")
        finally:
            free(st)

    def read(self, list items, arr, bint shared=False):
        """items: (box over the shard, source); source is None (missing
        shard: fill), a whole shard buffer, (pairs, {inner index: bytes}) for
        a partial fetch, or (pairs, fd): the shard is in that open file and
        each inner chunk task reads its own bytes (pairs from decode_index
        with the file's size).  shared: items may share a source, whose inner
        chunks are then decoded once.  CodecError.index names the failing item.

        Memory grows with the inner chunks a box touches, never with the
        inner chunks a shard has: tasks run in batches of _TASK_BATCH."""
        cdef ozf_box sb
        cdef size_t nitems = len(items), i, n = 0, got, k, cap = 0
        cdef const uint8_t[::1] v
        cdef const uint64_t[:, ::1] pv
        cdef const uint8_t* fp = self.inner.fill
        cdef ozf_read_task* whole = NULL
        cdef size_t* wowner = NULL
        cdef void* grown
        cdef const uint8_t* base
        cdef int fd
        cdef _inner_iter it
        memset(&it, 0, sizeof(_inner_iter))
        span = _array_span(arr)
        tasks = []
        owner = []
        keep = []
        try:
            for i in range(nitems):
                box, source = items[i]
                _parse_box(&sb, box, self.inner.itemsize, self.shape, span)
                if source is None:
                    with nogil:
                        ozf_box_fill(&sb, fp)
                    continue
                try:
                    if isinstance(source, tuple):
                        pairs, parts = source
                    else:
                        pairs = self.split(source)
                        parts = None
                except CodecError as e:
                    raise CodecError(str(e), i) from None
                if parts is None or isinstance(parts, int):
                    if parts is None:
                        v = _u8(source)
                        keep.append(v)
                        base = _ptr(v)
                        fd = -1
                    else:
                        if not (isinstance(pairs, _np.ndarray) and pairs.dtype == _np.uint64
                                and pairs.shape == (self.n_inner, 2) and parts >= 0):
                            raise ValueError("a file source is (index pairs from decode_index, fd)")
                        base = NULL
                        fd = parts
                    pv = pairs
                    keep.append(pairs)
                    if self._iter_init(&it, &sb) != 0:
                        raise MemoryError()
                    while not it.done:
                        if n == cap:
                            if cap < _TASK_BATCH:  # grow towards a batch
                                cap = min(_TASK_BATCH, max(16, 2 * cap))
                                grown = realloc(whole, cap * sizeof(ozf_read_task))
                                if grown == NULL:
                                    raise MemoryError()
                                whole = <ozf_read_task*>grown
                                grown = realloc(wowner, cap * sizeof(size_t))
                                if grown == NULL:
                                    raise MemoryError()
                                wowner = <size_t*>grown
                            else:  # a full batch: decode it and start the next
                                self._run_tasks(whole, wowner, n, shared)
                                n = 0
                        with nogil:
                            got = self._iter_fill(&it, &sb, &pv[0, 0], base, fd, whole + n, cap - n)
                        for k in range(n, n + got):
                            wowner[k] = i
                        n += got
                    free(it.buf)
                    free(it.abuf)
                    memset(&it, 0, sizeof(_inner_iter))
                    continue
                for lin, ibox in self._plan(&sb, span):
                    if pairs[lin, 0] == 0xFFFFFFFFFFFFFFFF:
                        src = None
                    else:
                        src = parts[lin]
                    tasks.append((ibox, src))
                    owner.append(i)
            if n:
                self._run_tasks(whole, wowner, n, shared)
            if tasks:
                try:
                    self.inner.read(tasks, arr, shared)
                except CodecError as e:
                    raise CodecError(f"inner chunk: {e}", owner[e.index]) from None
        finally:
            free(it.buf)
            free(it.abuf)
            free(whole)
            free(wowner)

    def write(self, list items, arr, bint write_empty):
        """items: (box over the shard, old) with old None or the current
        shard's bytes.  Returns one uint8 array (the new shard) or None
        (delete the shard) per item."""
        cdef ozf_box sb
        cdef size_t i, k, n = self.n_inner
        cdef size_t bound = self.inner.bound
        span = _array_span(arr)
        tasks = []
        owner = []
        plans = []
        slots = []
        # A shard with no old bytes is encoded in place: its inner chunks go to
        # slots of one buffer laid out in the shard's order, then _assemble
        # packs them forward and adds the index (no second copy, no second
        # buffer to fault in).
        cap = self.index_size + n * bound
        nfresh = sum(1 for _, old in items if old is None)
        out = _np.empty(nfresh * cap, dtype=_np.uint8)
        _, rank = self._layout()
        base0 = self.index_size if self.index_at_start else 0
        fresh = 0
        for i, (box, old) in enumerate(items):
            _parse_box(&sb, box, self.inner.itemsize, self.shape, span)
            pairs = None
            region = None
            if old is not None:
                try:
                    pairs = self.split(old)
                except CodecError as e:
                    raise CodecError(str(e), i) from None
                old = _u8(old)
            else:
                region = fresh * cap
                fresh += 1
            touched = {}
            for lin, ibox in self._plan(&sb, span):
                src = None
                if pairs is not None and pairs[lin, 0] != 0xFFFFFFFFFFFFFFFF:
                    start, step, count = ibox[0], ibox[1], ibox[2]
                    if not all(s == 0 and c == m and (c == 1 or t == 1) for s, t, c, m in
                               zip(start, step, count, self.inner.shape)):
                        src = old[int(pairs[lin, 0]):int(pairs[lin, 0] + pairs[lin, 1])]
                touched[lin] = len(tasks)
                tasks.append((ibox, src))
                owner.append(i)
                if region is None:
                    slots.append(None)
                else:
                    slots.append(region + base0 + (lin if rank is None else int(rank[lin])) * bound)
            plans.append((old, pairs, touched, region))
        # Shards with old bytes get their own buffer for the inner chunks.
        if any(s is None for s in slots):
            extra = _np.empty(sum(1 for s in slots if s is None) * bound, dtype=_np.uint8)
            j = 0
            dsts = []
            for s in slots:
                if s is None:
                    dsts.append((extra, j * bound))
                    j += 1
                else:
                    dsts.append((out, s))
            encoded = [None] * len(tasks)
            for buf in (out, extra):
                idx = [t for t in range(len(tasks)) if dsts[t][0] is buf]
                if not idx:
                    continue
                try:
                    enc = self.inner.write([tasks[t] for t in idx], arr, write_empty, buf,
                                           [dsts[t][1] for t in idx])
                except CodecError as e:
                    raise CodecError(f"inner chunk: {e}", owner[idx[e.index]]) from None
                for t, e in zip(idx, enc):
                    encoded[t] = e
        else:
            try:
                encoded = self.inner.write(tasks, arr, write_empty, out, slots)
            except CodecError as e:
                raise CodecError(f"inner chunk: {e}", owner[e.index]) from None
        results = []
        for old, pairs, touched, region in plans:
            parts = [None] * n
            for k in range(n):
                if k in touched:
                    parts[k] = encoded[touched[k]]
                elif pairs is not None and pairs[k, 0] != 0xFFFFFFFFFFFFFFFF:
                    parts[k] = old[int(pairs[k, 0]):int(pairs[k, 0] + pairs[k, 1])]
            results.append(self._assemble(parts, None if region is None else out[region:region + cap]))
        return results

    def assemble(self, list parts):
        """The shard made of ``parts`` (one encoded inner chunk per inner chunk, in
        C order; None for an empty one) with its index, laid out as this kernel
        writes shards (order, index location, checksum); None if all are empty.
        For copying encoded chunks into shards without decoding them (upgrade)."""
        if <size_t>len(parts) != self.n_inner:
            raise ValueError(f"assemble: {len(parts)} parts for {self.n_inner} inner chunks")
        return self._assemble(parts, None)

    cdef object _assemble(self, list parts, dest):
        """The shard made of parts, or None if all are empty.  dest (or None: a
        new array) receives it; parts may lie in dest as ozf_shard_assemble
        allows."""
        cdef size_t n = len(parts), i, total = self.index_size, size
        cdef const uint8_t** p = <const uint8_t**>malloc((n + 1) * sizeof(void*))
        cdef size_t* lens = <size_t*>malloc((n + 1) * sizeof(size_t))
        cdef const uint8_t[::1] v
        cdef uint8_t[::1] ov
        cdef const size_t[::1] ordv
        cdef const size_t* ordp = NULL
        order, _ = self._layout()
        if order is not None and self.n_inner:
            ordv = order
            ordp = &ordv[0]
        keep = []
        try:
            if not (p and lens):
                raise MemoryError()
            present = False
            for i in range(n):
                if parts[i] is None:
                    p[i] = NULL
                    lens[i] = 0
                else:
                    v = _u8(parts[i])
                    keep.append(v)
                    p[i] = _ptr(v)
                    lens[i] = v.shape[0]
                    total += lens[i]
                    present = True
            if not present:
                return None
            out = _np.empty(total, dtype=_np.uint8) if dest is None else dest
            ov = out
            if <size_t>ov.shape[0] < total:
                raise ValueError("shard buffer too small")
            with nogil:
                size = ozf_shard_assemble(n, p, lens, ordp, self.index_at_start, self.checksum, self.big,
                                          &ov[0])
            return out[:size]
        finally:
            free(p)
            free(lens)
