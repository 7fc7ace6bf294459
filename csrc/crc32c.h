/* CRC-32C (Castagnoli), as the zarr v3 crc32c codec and the sharding index
 * use it: reflected, init and final xor 0xFFFFFFFF.  SSE4.2 when the CPU has
 * it (checked once at run time), a slicing-by-8 table otherwise. */
#ifndef OZF_CRC32C_H
#define OZF_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc of buf, continuing from crc (pass 0 to start). */
uint32_t ozf_crc32c(uint32_t crc, const uint8_t *buf, size_t len);

/* The software path alone, whatever the CPU (for tests and benchmarks). */
uint32_t ozf_crc32c_sw(uint32_t crc, const uint8_t *buf, size_t len);

/* 1 if the hardware path is in use. */
int ozf_crc32c_hw(void);

#endif
