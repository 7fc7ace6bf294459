# Declarations for csrc/crc32c.h.
from libc.stdint cimport uint8_t, uint32_t

cdef extern from "crc32c.h" nogil:
    uint32_t ozf_crc32c(uint32_t crc, const uint8_t *buf, size_t len)
    uint32_t ozf_crc32c_sw(uint32_t crc, const uint8_t *buf, size_t len)
    int ozf_crc32c_hw()
