/* A zarr v3 codec chain for one chunk shape, run in C.
 *
 * The chain is what zarr calls array->array codecs (transpose), one
 * array->bytes codec (bytes, with an endianness) and bytes->bytes codecs
 * (zstd, blosc, gzip, crc32c).  Encoding runs them in that order, decoding
 * in reverse.  Arrays are always C-contiguous in memory; "decoded" means the
 * chunk in array order (before transpose), with the item byte order the
 * caller asked for (byteswap below).
 *
 * Every function is thread-safe and holds no global lock.  Compression
 * contexts are cached per thread.
 */
#ifndef OZF_CODEC_CHAIN_H
#define OZF_CODEC_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define OZF_MAXDIM 32
#define OZF_MAX_BB 8

/* OZF_ZLIB and OZF_LZ4: numcodecs' zlib and lz4 (zarr v2 compressors, and
 * "numcodecs.zlib"/"numcodecs.lz4" in zarr v3), byte-compatible with it. */
enum ozf_bb_kind { OZF_ZSTD = 1, OZF_BLOSC = 2, OZF_GZIP = 3, OZF_CRC32C = 4, OZF_ZLIB = 5, OZF_LZ4 = 6 };
enum ozf_blosc_cname {
    OZF_BLOSC_LZ4 = 0,
    OZF_BLOSC_LZ4HC,
    OZF_BLOSC_BLOSCLZ,
    OZF_BLOSC_ZSTD,
    OZF_BLOSC_ZLIB
};
enum ozf_blosc_shuffle { OZF_NOSHUFFLE = 0, OZF_SHUFFLE = 1, OZF_BITSHUFFLE = 2 };

typedef struct {
    int kind;         /* enum ozf_bb_kind */
    int level;        /* zstd: -131072..22; blosc: clevel 0..9; gzip: 0..9; zlib: -1..9;
                         lz4: acceleration (<= 0: 1) */
    int checksum;     /* zstd: write and verify the frame checksum */
    int cname;        /* blosc: enum ozf_blosc_cname */
    int shuffle;      /* blosc: enum ozf_blosc_shuffle */
    int typesize;     /* blosc: 1..255 */
    size_t blocksize; /* blosc: 0 = automatic */
} ozf_bb_codec;

typedef struct {
    int ndim;
    size_t shape[OZF_MAXDIM]; /* chunk shape, array order */
    size_t itemsize;          /* bytes per element */
    int transpose;            /* 1: a transpose codec with perm below */
    int perm[OZF_MAXDIM];     /* zarr transpose "order": out axis k = in axis perm[k] */
    int byteswap;             /* 1: the bytes codec's endianness differs from memory */
    int n_bb;
    ozf_bb_codec bb[OZF_MAX_BB]; /* in encode order */
    size_t swapsize;             /* byteswap unit: itemsize/2 for complex; 0 = itemsize */
} ozf_chain;

/* Validates c; on error fills st and returns its code. */
int ozf_chain_check(const ozf_chain *c, ozf_status *st);

/* Bytes in one decoded chunk (product of shape x itemsize). */
size_t ozf_chain_nbytes(const ozf_chain *c);

/* Upper bound of one encoded chunk; size dst for encode with it. */
size_t ozf_chain_encode_bound(const ozf_chain *c);

/* The most encoded bytes a stored chunk may hold to be read at all: the
 * encode bound plus slack for other writers' framing (a gzip header with a
 * file name, a zstd frame of smaller blocks).  A file larger than this is
 * refused before it is read. */
size_t ozf_chain_read_bound(const ozf_chain *c);

/* Decodes src into dst, which holds exactly ozf_chain_nbytes(c) bytes.
 * Never writes past dst nor allocates more than a small multiple of the
 * chunk size, whatever src holds.  Returns 0 or an error code (st filled). */
int ozf_chain_decode(const ozf_chain *c, const uint8_t *src, size_t srclen, uint8_t *dst, ozf_status *st);

/* Encodes the ozf_chain_nbytes(c) bytes at src into dst (capacity dstcap,
 * at least ozf_chain_encode_bound(c)); *dstlen gets the encoded size. */
int ozf_chain_encode(const ozf_chain *c, const uint8_t *src, uint8_t *dst, size_t dstcap, size_t *dstlen,
                     ozf_status *st);

/* Batch forms: chunk i uses src[i]/srclen[i] and dst[i]; chunks run in
 * parallel on the thread pool.  Each chunk gets its own status; the return
 * value is the number of failed chunks. */
size_t ozf_chain_decode_batch(const ozf_chain *c, size_t n, const uint8_t *const *src, const size_t *srclen,
                              uint8_t *const *dst, ozf_status *st);
size_t ozf_chain_encode_batch(const ozf_chain *c, size_t n, const uint8_t *const *src, uint8_t *const *dst,
                              size_t dstcap, size_t *dstlen, ozf_status *st);

/* Single bytes->bytes steps, for the zarr codec classes that wrap one codec.
 * src and dst must not overlap.
 * decode: *dstlen in = capacity of dst; out = bytes written.  When the
 * decoded size is not known in advance, ozf_bb_decoded_size returns the size
 * the frame header declares, or (size_t)-1 if it declares none. */
size_t ozf_bb_encode_bound(const ozf_bb_codec *b, size_t srclen);
int ozf_bb_encode(const ozf_bb_codec *b, const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstcap,
                  size_t *dstlen, ozf_status *st);
size_t ozf_bb_decoded_size(const ozf_bb_codec *b, const uint8_t *src, size_t srclen);
int ozf_bb_decode(const ozf_bb_codec *b, const uint8_t *src, size_t srclen, uint8_t *dst, size_t *dstlen,
                  ozf_status *st);

/* The version of the libzstd loaded at run time, e.g. "1.5.4".  Worth
 * reporting next to any zstd speed: the encoder at levels 3-4 on 64 KiB
 * chunks runs about 1.9x faster in 1.5.7 than in 1.5.4 (same bytes out). */
const char *ozf_zstd_version(void);
/* The version of the zstd.h the extension was compiled against. */
const char *ozf_zstd_build_version(void);
/* The version of the liblz4 loaded at run time. */
const char *ozf_lz4_version(void);

#endif
