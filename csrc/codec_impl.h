/* Internal to the codec chain: one bytes->bytes codec per file, and the
 * per-thread state they share (tls.h).  Not for Cython.
 *
 * Every decoder writes at most dstcap bytes to dst and returns the decoded
 * size in *dstlen; input that would decode to more is an error (OZF_ESIZE),
 * so a crafted header can never make us allocate or write past a buffer. */
#ifndef OZF_CODEC_IMPL_H
#define OZF_CODEC_IMPL_H

#include "codec_chain.h"
#include "tls.h"

size_t ozf_zstd_bound(size_t n);
int ozf_zstd_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                    size_t *dstlen, ozf_status *st);
size_t ozf_zstd_decoded_size(const uint8_t *src, size_t n);
int ozf_zstd_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                    ozf_status *st);

size_t ozf_blosc_bound(size_t n);
int ozf_blosc_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                     size_t *dstlen, ozf_status *st);
size_t ozf_blosc_decoded_size(const uint8_t *src, size_t n);
int ozf_blosc_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                     ozf_status *st);

size_t ozf_gzip_bound(size_t n);
int ozf_gzip_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                    size_t *dstlen, ozf_status *st);
size_t ozf_gzip_decoded_size(const uint8_t *src, size_t n);
int ozf_gzip_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                    ozf_status *st);

size_t ozf_zlib_bound(size_t n);
int ozf_zlib_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                    size_t *dstlen, ozf_status *st);
int ozf_zlib_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                    ozf_status *st);

size_t ozf_lz4_bound(size_t n);
int ozf_lz4_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                   size_t *dstlen, ozf_status *st);
size_t ozf_lz4_decoded_size(const uint8_t *src, size_t n);
int ozf_lz4_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen, ozf_status *st);

#endif
