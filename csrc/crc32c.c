#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define OZF_HAVE_X86 1
#endif

#define POLY 0x82F63B78u /* Castagnoli, reflected */

/* Block lengths of the three-stream hardware loop.  The streams run
 * interleaved so the crc32 instruction's 3-cycle latency overlaps; their
 * results are joined with a table that advances a crc over LONG (SHORT)
 * zero bytes. */
#define LONG  8192
#define SHORT 256

static uint32_t table8[8][256];     /* slicing-by-8 */
static uint32_t shift_long[4][256]; /* crc -> crc after LONG zero bytes */
static uint32_t shift_short[4][256];
static int use_hw;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* GF(2) 32x32 matrices as 32 columns: the image of each bit. */
static uint32_t mat_times(const uint32_t *m, uint32_t v) {
    uint32_t r = 0;
    for (int i = 0; v; i++, v >>= 1)
        if (v & 1) r ^= m[i];
    return r;
}

static void mat_square(uint32_t *sq, const uint32_t *m) {
    for (int i = 0; i < 32; i++) sq[i] = mat_times(m, m[i]);
}

/* Table for the linear map "append len zero bytes" (len a power of two). */
static void make_shift_table(uint32_t t[4][256], size_t len) {
    uint32_t op[32], tmp[32];
    /* One zero bit. */
    op[0] = POLY;
    for (int i = 1; i < 32; i++) op[i] = 1u << (i - 1);
    for (size_t bits = 1; bits < len * 8; bits <<= 1) {
        mat_square(tmp, op);
        memcpy(op, tmp, sizeof op);
    }
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) t[k][b] = mat_times(op, b << (8 * k));
}

static inline uint32_t shift(const uint32_t t[4][256], uint32_t crc) {
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

static void init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table8[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            table8[k][n] = (table8[k - 1][n] >> 8) ^ table8[0][table8[k - 1][n] & 0xff];
    make_shift_table(shift_long, LONG);
    make_shift_table(shift_short, SHORT);
#ifdef OZF_HAVE_X86
    __builtin_cpu_init();
    use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t len) {
    while (len && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ table8[0][(crc ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc; /* little-endian load: the crc lines up with the first 4 bytes */
        crc = table8[7][w & 0xff] ^ table8[6][(w >> 8) & 0xff] ^ table8[5][(w >> 16) & 0xff] ^
              table8[4][(w >> 24) & 0xff] ^ table8[3][(w >> 32) & 0xff] ^ table8[2][(w >> 40) & 0xff] ^
              table8[1][(w >> 48) & 0xff] ^ table8[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) crc = (crc >> 8) ^ table8[0][(crc ^ *p++) & 0xff];
    return crc;
}

#ifdef OZF_HAVE_X86
/* CRC of 3 * block bytes as three independent streams (the crc32 instruction
 * has a latency of 3 and a throughput of 1), joined by shifting the first two
 * over the bytes that follow them. */
__attribute__((target("sse4.2"))) static inline uint64_t
crc_3way(uint64_t crc, const uint8_t *p, size_t block, const uint32_t shift_table[4][256]) {
    uint64_t c1 = 0, c2 = 0;
    for (const uint8_t *end = p + block; p < end; p += 8) {
        uint64_t a, b, c;
        memcpy(&a, p, 8);
        memcpy(&b, p + block, 8);
        memcpy(&c, p + 2 * block, 8);
        crc = _mm_crc32_u64(crc, a);
        c1 = _mm_crc32_u64(c1, b);
        c2 = _mm_crc32_u64(c2, c);
    }
    crc = shift(shift_table, (uint32_t)crc) ^ (uint32_t)c1;
    return shift(shift_table, (uint32_t)crc) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc32, const uint8_t *p, size_t len) {
    uint64_t crc = crc32;
    while (len && ((uintptr_t)p & 7)) {
        crc = _mm_crc32_u8((uint32_t)crc, *p++);
        len--;
    }
    while (len >= 3 * LONG) {
        crc = crc_3way(crc, p, LONG, shift_long);
        p += 3 * LONG;
        len -= 3 * LONG;
    }
    while (len >= 3 * SHORT) {
        crc = crc_3way(crc, p, SHORT, shift_short);
        p += 3 * SHORT;
        len -= 3 * SHORT;
    }
    while (len >= 8) {
        uint64_t a;
        memcpy(&a, p, 8);
        crc = _mm_crc32_u64(crc, a);
        p += 8;
        len -= 8;
    }
    while (len--) crc = _mm_crc32_u8((uint32_t)crc, *p++);
    return (uint32_t)crc;
}
#endif

uint32_t ozf_crc32c(uint32_t crc, const uint8_t *buf, size_t len) {
    pthread_once(&init_once, init);
    crc = ~crc;
#ifdef OZF_HAVE_X86
    if (use_hw) return ~crc_hw(crc, buf, len);
#endif
    return ~crc_sw(crc, buf, len);
}

uint32_t ozf_crc32c_sw(uint32_t crc, const uint8_t *buf, size_t len) {
    pthread_once(&init_once, init);
    return ~crc_sw(~crc, buf, len);
}

int ozf_crc32c_hw(void) {
    pthread_once(&init_once, init);
    return use_hw;
}
