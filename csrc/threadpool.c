#define _GNU_SOURCE
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define OZF_MAX_THREADS 1024

typedef struct job {
    size_t n;
    ozf_task_fn fn;
    void *ctx;
    atomic_size_t next; /* next index to claim */
    atomic_size_t done; /* indices finished */
    int helpers;        /* workers inside run_job; the job outlives them */
    struct job *prev, *nextjob;
} job_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;     /* a job was posted, or the pool shrinks */
    pthread_cond_t finished; /* some job finished an index */
    job_t *jobs;             /* jobs with indices left to claim */
    int wanted;              /* threads per parallel_for, caller included */
    int started;             /* worker threads alive */
    unsigned generation;     /* bumped to retire workers on resize */
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .finished = PTHREAD_COND_INITIALIZER,
    .wanted = 1,
};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Claims and runs indices of job until none are left; lock not held. */
static void run_job(job_t *j) {
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n) return;
        j->fn(j->ctx, i);
        if (atomic_fetch_add(&j->done, 1) + 1 == j->n) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_broadcast(&pool.finished);
            pthread_mutex_unlock(&pool.lock);
        }
    }
}

static void unlink_job(job_t *j) {
    if (j->prev)
        j->prev->nextjob = j->nextjob;
    else if (pool.jobs == j)
        pool.jobs = j->nextjob;
    if (j->nextjob) j->nextjob->prev = j->prev;
    j->prev = j->nextjob = NULL;
}

static void *worker(void *arg) {
    unsigned generation = (unsigned)(size_t)arg;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        if (generation != pool.generation) break;
        job_t *j = pool.jobs;
        /* Drop jobs whose indices are all claimed; their owners wait on them. */
        while (j && atomic_load(&j->next) >= j->n) {
            job_t *exhausted = j;
            j = j->nextjob;
            unlink_job(exhausted);
        }
        if (!j) {
            pthread_cond_wait(&pool.work, &pool.lock);
            continue;
        }
        j->helpers++;
        pthread_mutex_unlock(&pool.lock);
        run_job(j);
        pthread_mutex_lock(&pool.lock);
        if (--j->helpers == 0) pthread_cond_broadcast(&pool.finished);
    }
    /* Retired: whoever bumped the generation already reset pool.started. */
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

static void atfork_prepare(void) { pthread_mutex_lock(&pool.lock); }
static void atfork_parent(void) { pthread_mutex_unlock(&pool.lock); }
static void atfork_child(void) {
    /* Only the forking thread exists in the child: forget the workers and any
     * jobs other threads of the parent had in flight. */
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.work, NULL);
    pthread_cond_init(&pool.finished, NULL);
    pool.jobs = NULL;
    pool.started = 0;
    pool.generation++;
}
static void install_atfork(void) { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }

/* Starts workers up to wanted-1; lock held.  Returns OZF_EIO if none could
 * start. */
static int ensure_workers(void) {
    pthread_once(&atfork_once, install_atfork);
    int rc = OZF_OK;
    while (pool.started < pool.wanted - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int err = pthread_create(&t, &attr, worker, (void *)(size_t)pool.generation);
        pthread_attr_destroy(&attr);
        if (err) {
            rc = pool.started ? OZF_OK : OZF_EIO;
            break;
        }
        pool.started++;
    }
    return rc;
}

void ozf_pool_set_threads(int n) {
    if (n < 1) n = 1;
    if (n > OZF_MAX_THREADS) n = OZF_MAX_THREADS;
    pthread_mutex_lock(&pool.lock);
    if (n - 1 < pool.started) {
        /* Retire every worker; the next parallel_for starts the right number. */
        pool.generation++;
        pool.started = 0;
        pthread_cond_broadcast(&pool.work);
    }
    pool.wanted = n;
    pthread_mutex_unlock(&pool.lock);
}

int ozf_pool_get_threads(void) {
    pthread_mutex_lock(&pool.lock);
    int n = pool.wanted;
    pthread_mutex_unlock(&pool.lock);
    return n;
}

int ozf_parallel_for(size_t n, ozf_task_fn fn, void *ctx) {
    if (n == 0) return OZF_OK;
    int rc = OZF_OK;
    pthread_mutex_lock(&pool.lock);
    if (n == 1 || pool.wanted <= 1) {
        pthread_mutex_unlock(&pool.lock);
        for (size_t i = 0; i < n; i++) fn(ctx, i);
        return OZF_OK;
    }
    rc = ensure_workers();
    job_t j;
    memset(&j, 0, sizeof j);
    j.n = n;
    j.fn = fn;
    j.ctx = ctx;
    atomic_init(&j.next, 0);
    atomic_init(&j.done, 0);
    j.nextjob = pool.jobs;
    if (pool.jobs) pool.jobs->prev = &j;
    pool.jobs = &j;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);

    run_job(&j);

    pthread_mutex_lock(&pool.lock);
    /* j lives on this stack: wait until no worker can still touch it. */
    while (atomic_load(&j.done) < n || j.helpers > 0) pthread_cond_wait(&pool.finished, &pool.lock);
    unlink_job(&j);
    pthread_mutex_unlock(&pool.lock);
    return rc;
}
