# Helpers every other .pxi file uses: the one map from C statuses
# (csrc/status.h) to Python exceptions, and uint8 views of buffers.
from libc.stdint cimport uint8_t
from omezarr_fast._lib.status cimport *

import numpy as _np
from omezarr_fast.errors import CodecError, UnsafePathError


cdef raise_status(ozf_status* st, object index=None, str label=None, object filename=None):
    """Raises the exception for a failed status.  The message is the C one,
    after label (default: "chunk <index>: " when index is given).  index
    goes to CodecError.index (and .index of any other exception raised here,
    so callers can name the key)."""
    msg = st.msg.decode("utf-8", "replace")
    if label is not None:
        msg = label + msg
    elif index is not None:
        msg = f"chunk {index}: {msg}"
    cdef int code = st.code
    if code == OZF_ENOMEM:
        err = MemoryError(msg)
    elif code == OZF_EIO:
        err = OSError(st.oserr, msg) if filename is None else OSError(st.oserr, msg, filename)
    elif code == OZF_EUNSAFE:
        err = UnsafePathError(msg, filename)
    elif code == OZF_EINVAL:
        err = ValueError(msg)
    else:  # OZF_ECORRUPT, OZF_ECHECKSUM, OZF_ESIZE, and any code this build does not know
        err = CodecError(msg, index)
    err.index = index
    raise err


def status_codes():
    """{name: value} of csrc/status.h's codes, as this build compiled them."""
    return {"OZF_OK": OZF_OK, "OZF_EINVAL": OZF_EINVAL, "OZF_ECORRUPT": OZF_ECORRUPT,
            "OZF_ECHECKSUM": OZF_ECHECKSUM, "OZF_ENOMEM": OZF_ENOMEM, "OZF_ESIZE": OZF_ESIZE,
            "OZF_EIO": OZF_EIO, "OZF_EUNSAFE": OZF_EUNSAFE, "OZF_NSTATUS": OZF_NSTATUS}


cdef object _u8(object data):
    """A 1-d uint8 view of any C-contiguous buffer (no copy)."""
    if isinstance(data, _np.ndarray):
        if not data.flags.c_contiguous:
            raise ValueError("data must be C-contiguous")
        return data.reshape(-1).view(_np.uint8)
    if isinstance(data, bytes):
        return data
    return _np.frombuffer(data, dtype=_np.uint8)


cdef inline const uint8_t* _ptr(const uint8_t[::1] v) noexcept nogil:
    """The first byte of v; a valid pointer (to a static empty string) when v is empty."""
    return &v[0] if v.shape[0] else <const uint8_t*>b""
