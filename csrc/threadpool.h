/* One process-wide pool of worker threads for all native work.
 *
 * ozf_parallel_for(n, fn, ctx) runs fn(ctx, i) for every i in [0, n) and
 * returns when all have finished.  The calling thread takes part, so nested
 * or concurrent calls from many threads never deadlock; idle workers help
 * whichever job has work left.
 *
 * Workers start lazily on first use.  After fork() the child starts with no
 * workers and spawns its own on first use (the parent's threads do not exist
 * in the child).
 */
#ifndef OZF_THREADPOOL_H
#define OZF_THREADPOOL_H

#include <stddef.h>

#include "status.h"

typedef void (*ozf_task_fn)(void *ctx, size_t i);

/* Total threads used by one parallel_for, the caller included (>= 1). */
void ozf_pool_set_threads(int n);
int ozf_pool_get_threads(void);

/* Runs fn(ctx, i) for i in [0, n).  Returns OZF_OK, or OZF_EIO if no worker
 * thread could be started (the work is then done on the calling thread alone,
 * so the result is still complete: callers may ignore it). */
int ozf_parallel_for(size_t n, ozf_task_fn fn, void *ctx);

#endif
