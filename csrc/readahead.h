/* Read-ahead for local files: while a batch of read tasks decodes, a
 * dedicated I/O thread asks the kernel for every byte range the tasks will
 * pread, so the device has many requests queued instead of one per compute
 * thread.
 *
 * Each task preads its own bytes on the compute pool (shard.c), so without
 * this at most one read per pool thread is in flight and a cold disk idles
 * between them.  POSIX_FADV_WILLNEED queues reads of a range into the page
 * cache; the tasks' preads then find the pages there (or wait for those still
 * in flight).  The advice runs on its own thread because the call blocks once
 * the device queue is full (measured here: most of a cold random batch's I/O
 * time is spent inside it), and the decode should not wait for that.  Ranges
 * are sorted and coalesced, so a whole shard costs a few large requests.
 *
 * Nothing here changes what is read, only when the device is asked for it;
 * advice that fails is ignored (the preads report real errors).  A batch's
 * advice is finished or cancelled before its read returns, so no fd is
 * advised after its owner closes it.  Fork-safe: a child starts with no I/O
 * thread and no queued advice.
 */
#ifndef OZF_READAHEAD_H
#define OZF_READAHEAD_H

#include <stddef.h>

#include "shard.h"

/* 0 off, 1 on (the default). */
void ozf_readahead_set(int mode);
int ozf_readahead_get(void);

typedef struct ozf_ra_job ozf_ra_job;

/* Queues advice for the file ranges of the tasks that read from a file
 * (src == NULL, fd >= 0); NULL when off, when fewer than two tasks read from
 * files, or when no memory or thread is available (reads work the same). */
ozf_ra_job *ozf_readahead_start(const ozf_read_task *t, size_t n);
/* The order to run the tasks in so they consume the bytes as the device
 * delivers them: tasks that read no file first, then by file and offset
 * (a shard's inner chunks are laid out in Morton order, not in the order its
 * tasks are made).  NULL when j is NULL. */
const size_t *ozf_readahead_order(const ozf_ra_job *j);
/* Cancels what is not yet advised, waits until the I/O thread is done with
 * the job, frees it.  NULL is fine. */
void ozf_readahead_finish(ozf_ra_job *j);

#endif
