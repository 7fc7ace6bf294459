#define _GNU_SOURCE
#include "ringread.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

static atomic_int ring_on = 1;

void ozf_ring_set(int on) { atomic_store(&ring_on, on ? 1 : 0); }
int ozf_ring_get(void) { return atomic_load(&ring_on); }

#ifndef OZF_HAVE_URING

int ozf_ring_available(void) { return 0; }
ozf_ring_job *ozf_ring_start(const ozf_read_task *t, const size_t *first, size_t m, size_t bound) {
    (void)t, (void)first, (void)m, (void)bound;
    return NULL;
}
const uint8_t *ozf_ring_wait(ozf_ring_job *j, size_t k) {
    (void)j, (void)k;
    return NULL;
}
void ozf_ring_release(ozf_ring_job *j, size_t k) { (void)j, (void)k; }
void ozf_ring_finish(ozf_ring_job *j) { (void)j; }

#else

#include <liburing.h>

/* Reads in flight at most (the ring's size), and bytes of buffers held ahead
 * of the tasks at most (a rank a task waits for is always read). */
#define OZF_RING_DEPTH 64
#define OZF_RING_BYTES ((size_t)32 << 20)

/* Per rank: not yet considered, reads no file, submitted, read, failed (the
 * task reads itself), released. */
enum { R_NEW, R_SKIP, R_WAIT, R_DONE, R_FAIL, R_FREED };

struct ozf_ring_job {
    struct io_uring ring;
    pthread_mutex_t lock;  /* submits and reaps */
    const ozf_read_task *t;
    const size_t *first;
    size_t m, bound, depth;
    uint8_t **buf;           /* per rank */
    _Atomic unsigned char *state; /* per rank: written under lock, read without */
    size_t next;             /* next rank to submit (under lock) */
    size_t inflight;         /* submitted, not reaped (under lock) */
    size_t held;             /* bytes of buffers allocated, not freed (under lock) */
    int broken;              /* the ring failed: reads in flight may never be reaped */
};

static atomic_int ring_works = -1; /* -1 not tried yet */

int ozf_ring_available(void) {
    int w = atomic_load(&ring_works);
    if (w < 0) {
        struct io_uring r;
        w = io_uring_queue_init(2, &r, 0) == 0;
        if (w) io_uring_queue_exit(&r);
        atomic_store(&ring_works, w);
    }
    return w;
}

static int reads_file(const ozf_ring_job *j, size_t k) {
    const ozf_read_task *t = &j->t[j->first[k]];
    return !t->src && t->fd >= 0 && t->srclen > 0 && t->srclen <= j->bound;
}

/* Submits ranks in order while the ring has room and the buffers held stay
 * under OZF_RING_BYTES, always through rank `need` (a task waits for it);
 * lock held. */
static void submit(ozf_ring_job *j, size_t need) {
    size_t queued = 0;
    while (j->next < j->m && j->inflight + queued < j->depth && !j->broken) {
        size_t k = j->next;
        if (!reads_file(j, k)) {
            atomic_store_explicit(&j->state[k], R_SKIP, memory_order_release);
            j->next++;
            continue;
        }
        const ozf_read_task *t = &j->t[j->first[k]];
        if (k > need && j->held + t->srclen > OZF_RING_BYTES) break;
        struct io_uring_sqe *sqe = io_uring_get_sqe(&j->ring);
        uint8_t *b = sqe ? malloc(t->srclen) : NULL;
        if (!b) {
            if (!sqe) break; /* cannot happen: the ring holds depth entries */
            atomic_store_explicit(&j->state[k], R_FAIL, memory_order_release);
            io_uring_prep_nop(sqe); /* the sqe is taken: complete it as a no-op */
            io_uring_sqe_set_data64(sqe, UINT64_MAX);
            queued++;
            j->next++;
            continue;
        }
        j->buf[k] = b;
        j->held += t->srclen;
        io_uring_prep_read(sqe, t->fd, b, (unsigned)t->srclen, t->offset);
        io_uring_sqe_set_data64(sqe, k);
        atomic_store_explicit(&j->state[k], R_WAIT, memory_order_relaxed);
        queued++;
        j->next++;
    }
    if (queued) {
        int rc;
        while ((rc = io_uring_submit(&j->ring)) == -EINTR || rc == -EAGAIN || rc == -EBUSY) {
        }
        j->inflight += queued;
        if (rc < 0) j->broken = 1;
    }
}

static void complete(ozf_ring_job *j, struct io_uring_cqe *cqe) {
    uint64_t k = io_uring_cqe_get_data64(cqe);
    int res = cqe->res;
    io_uring_cqe_seen(&j->ring, cqe);
    j->inflight--;
    if (k == UINT64_MAX) return; /* a no-op in place of a read */
    size_t len = j->t[j->first[k]].srclen;
    if (res >= 0 && (size_t)res == len) {
        atomic_store_explicit(&j->state[k], R_DONE, memory_order_release);
        return;
    }
    /* Failed or short: the task preads the range and reports what it finds. */
    free(j->buf[k]);
    j->buf[k] = NULL;
    j->held -= len;
    atomic_store_explicit(&j->state[k], R_FAIL, memory_order_release);
}

/* Reaps what has completed; with block, waits for at least one.  Lock held. */
static void reap(ozf_ring_job *j, int block) {
    struct io_uring_cqe *cqe;
    if (block) {
        /* Submits anything the kernel has not taken yet too, so the wait
         * always has a read to wait for. */
        int rc;
        while ((rc = io_uring_submit_and_wait(&j->ring, 1)) == -EINTR || rc == -EAGAIN || rc == -EBUSY) {
        }
        if (rc < 0) {
            j->broken = 1;
            return;
        }
    }
    while (io_uring_peek_cqe(&j->ring, &cqe) == 0) complete(j, cqe);
}

ozf_ring_job *ozf_ring_start(const ozf_read_task *t, const size_t *first, size_t m, size_t bound) {
    if (!atomic_load(&ring_on) || !first || m < 2 || !ozf_ring_available()) return NULL;
    ozf_ring_job tmp = {.t = t, .first = first, .m = m, .bound = bound};
    size_t files = 0;
    for (size_t k = 0; k < m && files < OZF_RING_DEPTH; k++) files += reads_file(&tmp, k);
    if (files < 2) return NULL;
    ozf_ring_job *j = malloc(sizeof *j);
    uint8_t **buf = calloc(m, sizeof *buf);
    _Atomic unsigned char *state = calloc(m, sizeof *state); /* R_NEW is 0 */
    if (!j || !buf || !state) goto fail;
    *j = tmp;
    j->buf = buf;
    j->state = state;
    j->depth = files;
    if (io_uring_queue_init((unsigned)files, &j->ring, 0) < 0) goto fail;
    pthread_mutex_init(&j->lock, NULL);
    submit(j, 0);
    return j;
fail:
    free(j);
    free(buf);
    free((void *)state);
    return NULL;
}

const uint8_t *ozf_ring_wait(ozf_ring_job *j, size_t k) {
    if (!j || k >= j->m) return NULL;
    int s = atomic_load_explicit(&j->state[k], memory_order_acquire);
    if (s == R_NEW || s == R_WAIT) {
        pthread_mutex_lock(&j->lock);
        for (;;) {
            reap(j, 0);
            submit(j, k); /* the reads after k go out while this task waits */
            s = atomic_load_explicit(&j->state[k], memory_order_acquire);
            if ((s != R_NEW && s != R_WAIT) || j->broken || !j->inflight) break;
            reap(j, 1);
        }
        pthread_mutex_unlock(&j->lock);
    }
    return s == R_DONE ? j->buf[k] : NULL;
}

void ozf_ring_release(ozf_ring_job *j, size_t k) {
    if (!j || k >= j->m || atomic_load_explicit(&j->state[k], memory_order_acquire) != R_DONE) return;
    pthread_mutex_lock(&j->lock);
    free(j->buf[k]);
    j->buf[k] = NULL;
    j->held -= j->t[j->first[k]].srclen;
    atomic_store_explicit(&j->state[k], R_FREED, memory_order_relaxed);
    pthread_mutex_unlock(&j->lock);
}

void ozf_ring_finish(ozf_ring_job *j) {
    if (!j) return;
    pthread_mutex_lock(&j->lock);
    while (j->inflight && !j->broken) reap(j, 1);
    pthread_mutex_unlock(&j->lock);
    if (j->broken) return; /* the kernel may still write into the buffers: keep them */
    io_uring_queue_exit(&j->ring);
    for (size_t k = 0; k < j->m; k++) free(j->buf[k]);
    pthread_mutex_destroy(&j->lock);
    free(j->buf);
    free((void *)j->state);
    free(j);
}

#endif
