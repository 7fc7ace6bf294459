/* io_uring reads of local file ranges, ahead of the tasks that decode them.
 *
 * A batch of read tasks (shard.c) runs in a known order; each task that reads
 * a file would pread its bytes on the compute pool, one read per pool thread
 * in flight.  Here the batch's ranges are submitted to an io_uring instead,
 * many at once in one system call, into buffers of their own, and each task
 * waits only for its own range: the device has the whole batch queued while
 * the pool decodes what has arrived.
 *
 * At most OZF_RING_DEPTH reads (and about OZF_RING_BYTES of buffers) are ahead
 * of the lowest task still waiting, so memory stays bounded for a batch of
 * any size.  Whoever waits reaps completions for everyone (under the job's
 * lock), so no extra thread is needed.
 *
 * Nothing here decides what a task reads: a read that fails or comes up short
 * gives the task no bytes, and the task then preads them itself, reporting
 * the real error (EIO, a short file) as before.  Every read submitted is
 * reaped before the job is freed, so no buffer or fd is touched by the kernel
 * after the batch returns.  The ring belongs to one batch; a child forked
 * meanwhile never touches it.
 *
 * Built with liburing when pkg-config finds it (OZF_HAVE_URING); otherwise,
 * or when the kernel refuses io_uring (ENOSYS, EPERM from a sandbox,
 * io_uring_disabled), ozf_ring_start returns NULL and the batch takes the
 * read-ahead path (readahead.h). */
#ifndef OZF_RINGREAD_H
#define OZF_RINGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "shard.h"

/* 1 when this build has io_uring support and the kernel accepted a ring
 * (tried once per process); 0 otherwise. */
int ozf_ring_available(void);
/* 0 off (read-ahead advice instead), 1 on when available (the default). */
void ozf_ring_set(int on);
int ozf_ring_get(void);

typedef struct ozf_ring_job ozf_ring_job;

/* Starts reading, in this order, the file ranges of tasks t[first[k]] for
 * k < m (those with src == NULL, fd >= 0 and 0 < srclen <= bound; the others
 * are skipped).  NULL when off, unavailable, fewer than two ranges, or out of
 * memory: the tasks then read their own bytes. */
ozf_ring_job *ozf_ring_start(const ozf_read_task *t, const size_t *first, size_t m, size_t bound);
/* The bytes of rank k, once read; NULL when rank k reads no file, or its read
 * failed or came up short (the task preads them itself).  j may be NULL. */
const uint8_t *ozf_ring_wait(ozf_ring_job *j, size_t k);
/* Rank k is done with its bytes (frees them, lets reads further ahead start). */
void ozf_ring_release(ozf_ring_job *j, size_t k);
/* Waits for every read submitted, frees the job.  NULL is fine. */
void ozf_ring_finish(ozf_ring_job *j);

#endif
