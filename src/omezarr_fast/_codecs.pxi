# Native zarr v3 codecs (csrc/codec_chain.c and friends).
#
# For other .pxi files in this module:
#
#   cdef int fill_chain(ozf_chain* c, list codecs, tuple chunk_shape, object dtype) except -1
#
#   Fills *c from zarr v3 codec metadata: `codecs` is a list of JSON dicts
#   ({"name": ..., "configuration": {...}}; objects with a to_dict() method
#   are accepted too) in zarr order: transpose codecs, at most one "bytes"
#   codec (missing = little endian), then zstd/blosc/gzip/crc32c and numcodecs'
#   zlib/lz4 ("numcodecs.zlib" {"level"}, "numcodecs.lz4" {"acceleration"}: the
#   zarr v3 names of the zarr v2 compressors, byte-compatible with numcodecs).
#   `chunk_shape` is the chunk's shape in array order, `dtype` anything
#   np.dtype() takes; the decoded chunk is a C-contiguous array of that dtype
#   in its own byte order.  Raises ValueError naming the codec and key for
#   anything unsupported (e.g. sharding_indexed, unknown names or keys, bad
#   values) and otherwise returns 0 with c validated by ozf_chain_check.
#
#   raise_status (in _common.pxi) turns a failed ozf_status into an exception.
from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport calloc, malloc, free
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE
from libc.string cimport memset
from omezarr_fast._lib.codec_chain cimport *
from omezarr_fast._lib.crc32c cimport ozf_crc32c, ozf_crc32c_sw, ozf_crc32c_hw
from omezarr_fast._lib.threadpool cimport ozf_parallel_for

import sys as _sys

_BLOSC_CNAMES = {"lz4": OZF_BLOSC_LZ4, "lz4hc": OZF_BLOSC_LZ4HC, "blosclz": OZF_BLOSC_BLOSCLZ,
                 "zstd": OZF_BLOSC_ZSTD, "zlib": OZF_BLOSC_ZLIB}
_BLOSC_SHUFFLES = {"noshuffle": OZF_NOSHUFFLE, "shuffle": OZF_SHUFFLE, "bitshuffle": OZF_BITSHUFFLE}
_BB_KEYS = {"zstd": ("level", "checksum"),
            "blosc": ("cname", "clevel", "shuffle", "typesize", "blocksize"),
            "gzip": ("level",), "crc32c": (),
            "numcodecs.zlib": ("level",), "numcodecs.lz4": ("acceleration",)}
_DTYPE_KINDS = "biufcmM"


cdef object _int_cfg(str codec, dict cfg, str key, object default, long lo, long hi):
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{codec}: configuration key {key!r} must be an int, got {v!r}")
    if not lo <= v <= hi:
        raise ValueError(f"{codec}: configuration key {key!r} must be in {lo}..{hi}, got {v}")
    return v


cdef tuple _name_cfg(object codec):
    if not isinstance(codec, dict) and hasattr(codec, "to_dict"):
        codec = codec.to_dict()
    if not isinstance(codec, dict):
        raise ValueError(f"codec must be a dict with 'name', got {codec!r}")
    name = codec.get("name")
    if not isinstance(name, str):
        raise ValueError(f"codec is missing its 'name': {codec!r}")
    extra = set(codec) - {"name", "configuration"}
    if extra:
        raise ValueError(f"{name}: unsupported key {sorted(extra)[0]!r}")
    cfg = codec.get("configuration") or {}
    if not isinstance(cfg, dict):
        raise ValueError(f"{name}: 'configuration' must be a dict")
    return name, cfg


cdef int fill_bb(ozf_bb_codec* b, str name, dict cfg, size_t itemsize) except -1:
    """Fills one bytes->bytes codec from its name and configuration."""
    keys = _BB_KEYS.get(name)
    if keys is None:
        raise ValueError(f"unsupported codec {name!r}")
    for k in cfg:
        if k not in keys:
            raise ValueError(f"{name}: unsupported configuration key {k!r}")
    memset(b, 0, sizeof(ozf_bb_codec))
    if name == "zstd":
        b.kind = OZF_ZSTD
        b.level = _int_cfg(name, cfg, "level", 0, -131072, 22)
        checksum = cfg.get("checksum", False)
        if not isinstance(checksum, bool):
            raise ValueError(f"zstd: configuration key 'checksum' must be a bool, got {checksum!r}")
        b.checksum = checksum
    elif name == "blosc":
        b.kind = OZF_BLOSC
        cname = cfg.get("cname", "zstd")
        if cname not in _BLOSC_CNAMES:
            raise ValueError(f"blosc: configuration key 'cname' must be one of "
                             f"{sorted(_BLOSC_CNAMES)}, got {cname!r}")
        b.cname = _BLOSC_CNAMES[cname]
        b.level = _int_cfg(name, cfg, "clevel", 5, 0, 9)
        shuffle = cfg.get("shuffle", "bitshuffle" if itemsize == 1 else "shuffle")
        if shuffle not in _BLOSC_SHUFFLES:
            raise ValueError(f"blosc: configuration key 'shuffle' must be one of "
                             f"{sorted(_BLOSC_SHUFFLES)}, got {shuffle!r}")
        b.shuffle = _BLOSC_SHUFFLES[shuffle]
        typesize = _int_cfg(name, cfg, "typesize", itemsize, 1, 2**31 - 1)
        # c-blosc 1.x compresses items wider than 255 bytes as bytes; so do we.
        b.typesize = typesize if typesize <= 255 else 1
        b.blocksize = _int_cfg(name, cfg, "blocksize", 0, 0, 2**31 - 1)
    elif name == "gzip":
        b.kind = OZF_GZIP
        b.level = _int_cfg(name, cfg, "level", 5, 0, 9)
    elif name == "numcodecs.zlib":
        b.kind = OZF_ZLIB
        b.level = _int_cfg(name, cfg, "level", 1, -1, 9)  # numcodecs' default: 1
    elif name == "numcodecs.lz4":
        b.kind = OZF_LZ4
        # numcodecs: a C int, <= 0 meaning the default 1; liblz4 caps large values
        b.level = _int_cfg(name, cfg, "acceleration", 1, -2**31, 2**31 - 1)
    else:
        b.kind = OZF_CRC32C
    return 0


cdef int _memory_is_big(object dt):
    if dt.byteorder == ">":
        return 1
    if dt.byteorder == "<":
        return 0
    return _sys.byteorder == "big"


cdef int fill_chain(ozf_chain* c, list codecs, tuple chunk_shape, object dtype) except -1:
    cdef ozf_status st
    cdef int k
    dt = _np.dtype(dtype)
    if dt.kind not in _DTYPE_KINDS or dt.fields is not None or dt.subdtype is not None:
        raise ValueError(f"dtype {dt} is not supported (fixed-size numbers, bool and complex only)")
    if len(chunk_shape) > OZF_MAXDIM:
        raise ValueError(f"chunk_shape has {len(chunk_shape)} dimensions, at most {OZF_MAXDIM} supported")
    memset(c, 0, sizeof(ozf_chain))
    c.ndim = len(chunk_shape)
    for k, n in enumerate(chunk_shape):
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 2**62:
            raise ValueError(f"chunk_shape must hold non-negative ints, got {chunk_shape!r}")
        c.shape[k] = n
    c.itemsize = dt.itemsize
    c.swapsize = dt.itemsize // 2 if dt.kind == "c" else dt.itemsize
    perm = list(range(c.ndim))
    stage = 0  # 0: array->array, 1: after bytes
    endian = "little"
    for codec in codecs:
        name, cfg = _name_cfg(codec)
        if name == "transpose":
            if stage:
                raise ValueError("transpose: must come before the bytes codec")
            for key in cfg:
                if key != "order":
                    raise ValueError(f"transpose: unsupported configuration key {key!r}")
            order = cfg.get("order")
            if (not isinstance(order, (list, tuple)) or
                    sorted(order) != list(range(c.ndim)) or
                    any(isinstance(o, bool) or not isinstance(o, int) for o in order)):
                raise ValueError(f"transpose: configuration key 'order' must be a permutation of "
                                 f"0..{c.ndim - 1}, got {order!r}")
            perm = [perm[o] for o in order]
            c.transpose = 1
        elif name == "bytes":
            if stage:
                raise ValueError("bytes: only one array->bytes codec is allowed")
            for key in cfg:
                if key != "endian":
                    raise ValueError(f"bytes: unsupported configuration key {key!r}")
            endian = cfg.get("endian", "little")
            if endian is None:
                endian = "little"
            if endian not in ("little", "big"):
                raise ValueError(f"bytes: configuration key 'endian' must be 'little' or 'big', got {endian!r}")
            stage = 1
        else:
            if name not in _BB_KEYS:
                raise ValueError(f"unsupported codec {name!r}")
            if c.n_bb == OZF_MAX_BB:
                raise ValueError(f"at most {OZF_MAX_BB} bytes->bytes codecs are supported")
            stage = 1
            fill_bb(&c.bb[c.n_bb], name, cfg, dt.itemsize)
            c.n_bb += 1
    for k in range(c.ndim):
        c.perm[k] = perm[k]
    c.byteswap = dt.itemsize > 1 and (endian == "big") != _memory_is_big(dt)
    if ozf_chain_check(c, &st):
        raise ValueError(st.msg.decode("utf-8", "replace"))
    return 0


cdef object _empty(size_t n):
    return _np.empty(n, dtype=_np.uint8)


cdef object _shrink(object arr, size_t n):
    # realloc in place: cheaper than a copy, and does not hold the bound's
    # worth of memory for the life of the result.
    arr.resize(n, refcheck=False)
    return arr


cdef class _Buffers:
    """C-contiguous buffers borrowed from many objects, released together.
    Cheaper per chunk than typed memoryviews, and takes any dtype."""
    cdef Py_buffer* b
    cdef size_t got

    def __cinit__(self, size_t n):
        self.b = <Py_buffer*>calloc(n + 1, sizeof(Py_buffer))
        if not self.b:
            raise MemoryError()

    def __dealloc__(self):
        self.release()
        free(self.b)

    cdef void release(self) noexcept:
        cdef size_t i
        for i in range(self.got):
            PyBuffer_Release(&self.b[i])
        self.got = 0

    cdef Py_buffer* add(self, object o, bint writable, object what) except NULL:
        try:
            PyObject_GetBuffer(o, &self.b[self.got], PyBUF_WRITABLE if writable else PyBUF_SIMPLE)
        except (BufferError, ValueError, TypeError) as e:
            kind = "writeable C-contiguous" if writable else "C-contiguous"
            raise ValueError(f"{what} must be a {kind} buffer ({e})") from None
        self.got += 1
        return &self.b[self.got - 1]


cdef class NativeChain:
    """A compiled codec chain over C-contiguous buffers (any dtype; only the
    bytes count).  The public wrapper is omezarr_fast.native.ChunkCodec."""
    cdef ozf_chain c
    cdef readonly size_t nbytes, bound, read_bound

    def __cinit__(self, list codecs, tuple chunk_shape, dtype):
        fill_chain(&self.c, codecs, chunk_shape, dtype)
        self.nbytes = ozf_chain_nbytes(&self.c)
        self.bound = ozf_chain_encode_bound(&self.c)
        self.read_bound = ozf_chain_read_bound(&self.c)

    def encode(self, src):
        """src: one chunk, C-ordered -> encoded 1-d uint8 array."""
        return self.encode_batch([src], single=True)[0]

    def decode_into(self, data, out):
        """Decodes data into out (nbytes writeable bytes)."""
        self.decode_batch([data], [out], single=True)

    def encode_batch(self, list srcs, bint serial=False, bint single=False):
        """serial: run on the calling thread alone (the benchmarks' raw speed)."""
        cdef size_t n = len(srcs), i, failed = 0
        cdef Py_buffer* b
        cdef _Buffers sb = _Buffers(n), db = _Buffers(n)
        cdef const uint8_t** sp = <const uint8_t**>malloc((n + 1) * sizeof(void*))
        cdef uint8_t** dp = <uint8_t**>malloc((n + 1) * sizeof(void*))
        cdef size_t* lens = <size_t*>malloc((n + 1) * sizeof(size_t))
        cdef ozf_status* st = <ozf_status*>malloc((n + 1) * sizeof(ozf_status))
        outs = []
        try:
            if not (sp and dp and lens and st):
                raise MemoryError()
            for i in range(n):
                b = sb.add(srcs[i], False, "array" if single else f"array {i}")
                if <size_t>b.len != self.nbytes:
                    raise ValueError(f"{'array' if single else f'array {i}'} holds {b.len} bytes, "
                                     f"the chunk {self.nbytes}")
                sp[i] = <const uint8_t*>b.buf
                o = _empty(self.bound)
                dp[i] = <uint8_t*>db.add(o, True, "out").buf
                outs.append(o)
            db.release()  # no buffer export may outlive the resize below
            with nogil:
                if serial or n == 1:
                    for i in range(n):
                        failed += ozf_chain_encode(&self.c, sp[i], dp[i], self.bound, &lens[i], &st[i]) != 0
                else:
                    failed = ozf_chain_encode_batch(&self.c, n, sp, dp, self.bound, lens, st)
            for i in range(n):
                if st[i].code:
                    raise_status(&st[i], None if single else i)
                _shrink(outs[i], lens[i])
            return outs
        finally:
            free(sp); free(dp); free(lens); free(st)

    def decode_batch(self, list datas, list outs, bint serial=False, bint single=False):
        """outs: one writeable C-contiguous buffer of nbytes per chunk."""
        cdef size_t n = len(datas), i, failed = 0
        cdef Py_buffer* b
        if <size_t>len(outs) != n:
            raise ValueError(f"got {n} chunks but {len(outs)} outputs")
        cdef _Buffers bufs = _Buffers(2 * n)
        cdef const uint8_t** sp = <const uint8_t**>malloc((n + 1) * sizeof(void*))
        cdef uint8_t** dp = <uint8_t**>malloc((n + 1) * sizeof(void*))
        cdef size_t* lens = <size_t*>malloc((n + 1) * sizeof(size_t))
        cdef ozf_status* st = <ozf_status*>malloc((n + 1) * sizeof(ozf_status))
        try:
            if not (sp and dp and lens and st):
                raise MemoryError()
            for i in range(n):
                b = bufs.add(datas[i], False, "data" if single else f"data {i}")
                sp[i] = <const uint8_t*>b.buf
                lens[i] = b.len
                b = bufs.add(outs[i], True, "out" if single else f"out {i}")
                if <size_t>b.len != self.nbytes:
                    raise ValueError(f"{'out' if single else f'out {i}'} holds {b.len} bytes, "
                                     f"the chunk {self.nbytes}")
                dp[i] = <uint8_t*>b.buf
            with nogil:
                if serial or n == 1:
                    for i in range(n):
                        failed += ozf_chain_decode(&self.c, sp[i], lens[i], dp[i], &st[i]) != 0
                else:
                    failed = ozf_chain_decode_batch(&self.c, n, sp, lens, dp, st)
            if failed:
                for i in range(n):
                    if st[i].code:
                        raise_status(&st[i], None if single else i)
        finally:
            free(sp); free(dp); free(lens); free(st)


# ---- one bytes->bytes codec at a time, for zarr's codec classes ----

ctypedef struct _bb_job:
    const ozf_bb_codec* b
    const uint8_t** src
    size_t* srclen
    uint8_t** dst
    size_t* cap       # in: capacity; out: bytes written
    ozf_status* st
    int encode


cdef void _bb_task(void* ctx, size_t i) noexcept nogil:
    cdef _bb_job* j = <_bb_job*>ctx
    if j.encode:
        ozf_bb_encode(j.b, j.src[i], j.srclen[i], j.dst[i], j.cap[i], &j.cap[i], &j.st[i])
    else:
        ozf_bb_decode(j.b, j.src[i], j.srclen[i], j.dst[i], &j.cap[i], &j.st[i])


cdef class NativeBytesCodec:
    """One zstd/blosc/gzip/crc32c/numcodecs.zlib/numcodecs.lz4 codec over whole buffers,
    batched.

    decode needs a limit on the decoded size (zarr knows the chunk's size);
    output larger than the limit is an error, so crafted headers cannot make
    us allocate more."""
    cdef ozf_bb_codec b
    cdef readonly str name

    def __cinit__(self, str name, dict configuration, size_t itemsize=1):
        fill_bb(&self.b, name, configuration, itemsize)
        self.name = name

    cdef list _run(self, list datas, list caps, int encode):
        cdef size_t n = len(datas), i
        cdef const uint8_t[::1] s
        cdef uint8_t[::1] d
        cdef _bb_job j
        j.b = &self.b
        j.encode = encode
        j.src = <const uint8_t**>malloc((n + (n == 0)) * sizeof(void*))
        j.dst = <uint8_t**>malloc((n + (n == 0)) * sizeof(void*))
        j.srclen = <size_t*>malloc((n + (n == 0)) * sizeof(size_t))
        j.cap = <size_t*>malloc((n + (n == 0)) * sizeof(size_t))
        j.st = <ozf_status*>malloc((n + (n == 0)) * sizeof(ozf_status))
        keep = []
        outs = []
        try:
            if not (j.src and j.dst and j.srclen and j.cap and j.st):
                raise MemoryError()
            for i in range(n):
                s = _u8(datas[i])
                keep.append(s)
                j.src[i] = _ptr(s)
                j.srclen[i] = s.shape[0]
                o = _empty(caps[i])
                d = o
                j.dst[i] = <uint8_t*>_ptr(d)
                j.cap[i] = caps[i]
                outs.append(o)
            d = None  # no buffer export may outlive the resize below
            with nogil:
                ozf_parallel_for(n, _bb_task, &j)
            for i in range(n):
                if j.st[i].code:
                    raise_status(&j.st[i], i if n > 1 else None)
                _shrink(outs[i], j.cap[i])
            return outs
        finally:
            free(j.src); free(j.dst); free(j.srclen); free(j.cap); free(j.st)

    def encode_batch(self, list datas):
        caps = [ozf_bb_encode_bound(&self.b, len(_u8(x)) if not isinstance(x, bytes) else len(x))
                for x in datas]
        return self._run(datas, caps, 1)

    def decode_batch(self, list datas, list limits):
        """limits[i]: the most bytes chunk i may decode to."""
        cdef size_t hint, limit
        cdef const uint8_t[::1] s
        caps = []
        for x, limit in zip(datas, limits):
            s = _u8(x)
            hint = ozf_bb_decoded_size(&self.b, _ptr(s), s.shape[0])
            # gzip's hint is only mod 2^32 and per member: fall back to the limit.
            caps.append(hint if hint <= limit and self.b.kind != OZF_GZIP else limit)
        return self._run(datas, caps, 0)


def crc32c(data, unsigned int value=0):
    """CRC-32C of a C-contiguous buffer, continuing from value."""
    cdef const uint8_t[::1] s = _u8(data)
    cdef const uint8_t* p = _ptr(s)
    cdef size_t n = s.shape[0]
    cdef uint32_t r
    with nogil:
        r = ozf_crc32c(value, p, n)
    return r


def crc32c_software(data, unsigned int value=0):
    cdef const uint8_t[::1] s = _u8(data)
    cdef const uint8_t* p = _ptr(s)
    cdef size_t n = s.shape[0]
    cdef uint32_t r
    with nogil:
        r = ozf_crc32c_sw(value, p, n)
    return r


def crc32c_hardware():
    return bool(ozf_crc32c_hw())


def zstd_version():
    return ozf_zstd_version().decode()


def zstd_build_version():
    return ozf_zstd_build_version().decode()


def lz4_version():
    return ozf_lz4_version().decode()
