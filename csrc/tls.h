/* Per-thread state shared by the codecs and the shard kernels: compression
 * contexts and scratch buffers, one set per thread, freed by a destructor
 * when the thread exits.
 *
 * Scratch buffers grow to the largest size asked for; a buffer larger than
 * OZF_SCRATCH_KEEP is released by ozf_tls_trim once its user is done, so one
 * big chunk does not pin its memory in every thread for the life of the
 * process. */
#ifndef OZF_TLS_H
#define OZF_TLS_H

#include <stddef.h>
#include <stdint.h>

/* Scratch kept between calls per slot; above it, freed after use. */
#define OZF_SCRATCH_KEEP ((size_t)16 << 20)

enum ozf_scratch_slot {
    OZF_SCRATCH_CHAIN0 = 0, /* the codec chain's two ping-pong buffers */
    OZF_SCRATCH_CHAIN1 = 1,
    OZF_SCRATCH_CHUNK = 2,  /* shard kernels: one decoded chunk */
    OZF_SCRATCH_SOURCE = 3, /* shard kernels: encoded bytes read from a file */
    OZF_NSCRATCH = 4,
};

typedef struct {
    void *zstd_c, *zstd_d;
    void *deflate_c[13]; /* libdeflate compressors by level */
    void *deflate_d;
    uint8_t *scratch[OZF_NSCRATCH];
    size_t scratch_cap[OZF_NSCRATCH];
} ozf_tls;

/* This thread's state; NULL if out of memory. */
ozf_tls *ozf_tls_get(void);

/* A buffer of at least size bytes (size 0: a valid pointer) in slot; NULL if
 * out of memory.  The contents do not survive a call that grows it. */
uint8_t *ozf_tls_scratch(ozf_tls *t, int slot, size_t size);

/* Frees slot's buffer if it is larger than OZF_SCRATCH_KEEP. */
void ozf_tls_trim(ozf_tls *t, int slot);

#endif
