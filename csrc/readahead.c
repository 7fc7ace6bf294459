#define _GNU_SOURCE
#include "readahead.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* Ranges closer than this are advised as one: the gap costs less device time
 * than a separate request, and a shard's inner chunks are usually adjacent. */
#define OZF_RA_GAP (64 << 10)
/* Linux reads at most the device's read-ahead size (read_ahead_kb, 128 KiB by
 * default) per WILLNEED call and drops the rest of the range, so longer ranges
 * are advised in pieces of this size. */
#define OZF_RA_PIECE (128 << 10)

typedef struct {
    int fd;
    uint64_t lo, hi;
    size_t task;
} span;

enum { QUEUED, RUNNING, DONE };

struct ozf_ra_job {
    span *s;
    size_t n;
    size_t *order;  /* tasks by file and offset (ozf_readahead_order) */
    atomic_int cancel;
    int state;  /* under q.lock */
    ozf_ra_job *next;
};

static atomic_int ra_mode = 1;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;  /* a job was queued */
    pthread_cond_t done;  /* a job finished */
    ozf_ra_job *head, *tail;
    int started;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

void ozf_readahead_set(int mode) { atomic_store(&ra_mode, mode ? 1 : 0); }
int ozf_readahead_get(void) { return atomic_load(&ra_mode); }

static int cmp_span(const void *pa, const void *pb) {
    const span *a = pa, *b = pb;
    if (a->fd != b->fd) return a->fd < b->fd ? -1 : 1;
    if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
    return a->task < b->task ? -1 : a->task > b->task;
}

static void *worker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&q.lock);
    for (;;) {
        while (!q.head) pthread_cond_wait(&q.work, &q.lock);
        ozf_ra_job *j = q.head;
        q.head = j->next;
        if (!q.head) q.tail = NULL;
        j->state = RUNNING;
        pthread_mutex_unlock(&q.lock);
        for (size_t k = 0; k < j->n; k++)
            for (uint64_t lo = j->s[k].lo; lo < j->s[k].hi && !atomic_load(&j->cancel); lo += OZF_RA_PIECE) {
                uint64_t len = j->s[k].hi - lo < OZF_RA_PIECE ? j->s[k].hi - lo : OZF_RA_PIECE;
                (void)posix_fadvise(j->s[k].fd, (off_t)lo, (off_t)len, POSIX_FADV_WILLNEED);
            }
        pthread_mutex_lock(&q.lock);
        j->state = DONE;
        pthread_cond_broadcast(&q.done);
    }
    return NULL;
}

static void atfork_prepare(void) { pthread_mutex_lock(&q.lock); }
static void atfork_parent(void) { pthread_mutex_unlock(&q.lock); }
static void atfork_child(void) {
    /* The I/O thread is gone; the queued jobs belong to threads that are gone too. */
    pthread_mutex_init(&q.lock, NULL);
    pthread_cond_init(&q.work, NULL);
    pthread_cond_init(&q.done, NULL);
    q.head = q.tail = NULL;
    q.started = 0;
}
static void install_atfork(void) { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }

/* Starts the I/O thread if needed; lock held.  0 when it runs. */
static int ensure_worker(void) {
    pthread_once(&atfork_once, install_atfork);
    if (q.started) return 0;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 << 10);
    int err = pthread_create(&t, &attr, worker, NULL);
    pthread_attr_destroy(&attr);
    if (err) return -1;
    q.started = 1;
    return 0;
}

ozf_ra_job *ozf_readahead_start(const ozf_read_task *t, size_t n) {
    if (!atomic_load(&ra_mode)) return NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += !t[i].src && t[i].fd >= 0 && t[i].srclen > 0;
    if (m < 2) return NULL;
    ozf_ra_job *j = malloc(sizeof *j);
    span *s = malloc(m * sizeof *s);
    size_t *order = malloc(n * sizeof *order);
    if (!j || !s || !order) goto fail;
    m = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (!t[i].src && t[i].fd >= 0 && t[i].srclen > 0)
            s[m++] = (span){t[i].fd, t[i].offset, t[i].offset + t[i].srclen, i};
        else
            order[o++] = i;  /* in memory, or fill: no I/O to wait for */
    }
    qsort(s, m, sizeof *s, cmp_span);
    for (size_t k = 0; k < m; k++) order[o++] = s[k].task;
    size_t k = 0, out = 0;
    while (k < m) {
        span cur = s[k++];
        while (k < m && s[k].fd == cur.fd && s[k].lo <= cur.hi + OZF_RA_GAP) {
            if (s[k].hi > cur.hi) cur.hi = s[k].hi;
            k++;
        }
        s[out++] = cur;
    }
    j->s = s;
    j->n = out;
    j->order = order;
    atomic_init(&j->cancel, 0);
    j->state = QUEUED;
    j->next = NULL;
    pthread_mutex_lock(&q.lock);
    if (ensure_worker()) {
        pthread_mutex_unlock(&q.lock);
        goto fail;
    }
    if (q.tail) q.tail->next = j; else q.head = j;
    q.tail = j;
    pthread_cond_signal(&q.work);
    pthread_mutex_unlock(&q.lock);
    return j;
fail:
    free(j);
    free(s);
    free(order);
    return NULL;
}

const size_t *ozf_readahead_order(const ozf_ra_job *j) { return j ? j->order : NULL; }

void ozf_readahead_finish(ozf_ra_job *j) {
    if (!j) return;
    atomic_store(&j->cancel, 1);
    pthread_mutex_lock(&q.lock);
    if (j->state == QUEUED) {  /* not started: take it out of the queue */
        ozf_ra_job **p = &q.head, *prev = NULL;
        while (*p && *p != j) { prev = *p; p = &(*p)->next; }
        if (*p) {
            *p = j->next;
            if (q.tail == j) q.tail = prev;
        }
    } else {
        while (j->state != DONE) pthread_cond_wait(&q.done, &q.lock);
    }
    pthread_mutex_unlock(&q.lock);
    free(j->s);
    free(j->order);
    free(j);
}
