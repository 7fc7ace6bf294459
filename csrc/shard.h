/* Chunk and shard I/O kernels for the codec pipeline: the zarr v3
 * sharding_indexed index, box copies between a decoded chunk and a strided
 * array, and batched read (decode + scatter) and write (gather + encode)
 * tasks that run in parallel on the thread pool.
 *
 * A "box" is a basic selection inside one C-contiguous chunk: per dimension
 * a start, a step (>= 1) and a count, plus where the first selected element
 * lives in a caller array and that array's byte stride for each chunk
 * dimension (0 for a dimension the array does not have, or broadcast).
 * The caller guarantees that every address the box reaches is inside its
 * array; these functions never read or write outside the chunk.
 */
#ifndef OZF_SHARD_H
#define OZF_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "codec_chain.h"
#include "status.h"

#define OZF_SHARD_EMPTY UINT64_MAX

typedef struct {
    int ndim;
    size_t itemsize;
    size_t shape[OZF_MAXDIM]; /* the chunk */
    size_t start[OZF_MAXDIM];
    size_t step[OZF_MAXDIM];
    size_t count[OZF_MAXDIM];   /* start + (count-1)*step < shape */
    uint8_t *arr;               /* caller array: element of the first selected item */
    int64_t stride[OZF_MAXDIM]; /* caller array byte strides, per chunk dimension */
} ozf_box;

/* 1 if the box selects the whole chunk. */
int ozf_box_is_full(const ozf_box *b);
/* chunk -> array, and array -> chunk. */
void ozf_box_scatter(const ozf_box *b, const uint8_t *chunk);
void ozf_box_gather(const ozf_box *b, uint8_t *chunk);
/* Writes the itemsize-byte value at item into every selected array element. */
void ozf_box_fill(const ozf_box *b, const uint8_t *item);

/* Index of n inner chunks: n (offset, nbytes) uint64 pairs, little or big
 * endian, followed by a little-endian crc32c of those 16n bytes when
 * checksum is set.  Size: 16n (+4). */
size_t ozf_shard_index_size(size_t n, int checksum);

/* Parses and validates an index.  shard_len is the whole shard's size
 * (UINT64_MAX if unknown); index_lo..index_hi is where the index sits in the
 * shard.  Errors (OZF_ECHECKSUM, OZF_ECORRUPT): wrong checksum, half-empty
 * entries, chunks past the end of the shard or overlapping the index.  Chunks
 * may share or overlap bytes with each other (readers accept that; writers
 * here never produce it).  pairs receives 2n values (OZF_SHARD_EMPTY marks
 * empty).  Allocates nothing. */
int ozf_shard_index_decode(const uint8_t *idx, size_t idxlen, size_t n, int checksum, int big,
                           uint64_t shard_len, uint64_t index_lo, uint64_t index_hi, uint64_t *pairs,
                           ozf_status *st);
void ozf_shard_index_encode(const uint64_t *pairs, size_t n, int checksum, int big, uint8_t *out);

/* Concatenates the n inner chunks (part[i] == NULL: empty) into out in the
 * order given (order[k] = index of the k-th chunk laid out; NULL: index
 * order), the index before (index_at_start) or after them.  out holds at
 * least the sum of lens plus the index size.  Parts may lie inside out (encoded
 * in place) if each starts at or after where it lands, which holds when part
 * k of the order sits at index_size (or 0 at the end) + k * a slot size no
 * smaller than any part.  Returns the shard's size. */
size_t ozf_shard_assemble(size_t n, const uint8_t *const *part, const size_t *len, const size_t *order,
                          int index_at_start, int checksum, int big, uint8_t *out);

/* Read task: the encoded chunk is src[0..srclen), or, with fd >= 0, the
 * srclen bytes at offset in that open file (read by the task itself into a
 * per-thread buffer, so no compressed copy of a whole shard is held).
 * src == NULL and fd < 0: a missing chunk, filled with the fill value.
 * Every task either fills its whole box or fails: a source of 0 bytes, one
 * longer than ozf_chain_read_bound (refused before it is read), a short
 * file (OZF_ECORRUPT) or a read error (OZF_EIO) all fail. */
typedef struct {
    const uint8_t *src;
    size_t srclen;
    ozf_box box;
    int fd;
    uint64_t offset;
} ozf_read_task;

/* Runs the n tasks in parallel (chain c, fill = one item).  Each task gets a
 * status; returns the number that failed.  With shared set, tasks that name
 * the same encoded bytes (same src pointer, or same fd, offset and length)
 * decode them once and each scatters the result into its own box: many
 * overlapping reads of one array then cost each chunk once. */
size_t ozf_read_tasks(const ozf_chain *c, size_t n, const ozf_read_task *t, const uint8_t *fill,
                      ozf_status *st, int shared);

/* Write task: the chunk starts as old decoded (old == NULL: all fill value),
 * gets the box gathered from the caller's array (box.arr), and is encoded
 * into dst (capacity ozf_chain_encode_bound).  With write_empty == 0 a chunk
 * equal to the fill value everywhere is not encoded: empty = 1. */
typedef struct {
    const uint8_t *old;
    size_t oldlen;
    ozf_box box;
    uint8_t *dst;
    size_t dstlen;
    int empty;
} ozf_write_task;

size_t ozf_write_tasks(const ozf_chain *c, size_t n, ozf_write_task *t, const uint8_t *fill, int write_empty,
                       ozf_status *st);

#endif
