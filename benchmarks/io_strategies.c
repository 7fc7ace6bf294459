/* Ways to read a set of byte ranges from cold files, timed with the page cache
 * dropped first (root).  Run by `compare_cold.py --io-strategies`, which
 * writes the ranges (the inner chunks 64 random 64^3 patches need) and builds
 * this file with the system's C compiler:
 *
 *     cc -O2 io_strategies.c -o io_strategies -lpthread [-luring | -DNO_URING]
 *     io_strategies RANGES MODE SCOPE
 *
 * RANGES: lines "path offset length", patches separated by empty lines.
 * SCOPE: "patch" reads patch after patch (the I/O of reading patches one at a
 * time), "all" every range at once (the I/O of read_regions).
 * MODE, per patch (or for all):
 *   plain          pread each range in file order, one after another;
 *   willneed       POSIX_FADV_WILLNEED every range (in 128 KiB pieces, as
 *                  csrc/readahead.c), then pread them (what the pipeline does);
 *   uring          io_uring reads of every range into their buffers, all
 *                  submitted at once (up to 256 in flight);
 *   uring-random   the same on files opened with POSIX_FADV_RANDOM (no kernel
 *                  read-ahead beyond each range);
 *   threads:K      K threads (started once) pread the ranges, taking the next
 *                  one in file order.
 * Prints the milliseconds taken.  The bytes each mode makes the device read
 * are measured by the caller (block device counters). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifndef NO_URING
#include <liburing.h>
#endif

typedef struct {
    int fd;
    long off, len;
    char *buf;
} range;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void read_one(range *r) {
    for (long done = 0; done < r->len;) {
        ssize_t got = pread(r->fd, r->buf + done, r->len - done, r->off + done);
        if (got <= 0) die("pread");
        done += got;
    }
}

static void plain(range *a, int n) {
    for (int i = 0; i < n; i++) read_one(&a[i]);
}

static void willneed(range *a, int n) {
    for (int i = 0; i < n; i++)
        for (long o = a[i].off; o < a[i].off + a[i].len; o += 128 << 10) {
            long l = a[i].off + a[i].len - o;
            posix_fadvise(a[i].fd, o, l < (128 << 10) ? l : (128 << 10), POSIX_FADV_WILLNEED);
        }
    plain(a, n);
}

#ifndef NO_URING
static struct io_uring ring;

static void uring(range *a, int n) {
    int sub = 0, done = 0;
    while (done < n) {
        while (sub < n && sub - done < 256) {
            struct io_uring_sqe *s = io_uring_get_sqe(&ring);
            if (!s) break;
            io_uring_prep_read(s, a[sub].fd, a[sub].buf, a[sub].len, a[sub].off);
            io_uring_sqe_set_data64(s, sub);
            sub++;
        }
        if (io_uring_submit_and_wait(&ring, 1) < 0) die("io_uring_submit_and_wait");
        struct io_uring_cqe *c;
        unsigned head, k = 0;
        io_uring_for_each_cqe(&ring, head, c) {
            range *r = &a[io_uring_cqe_get_data64(c)];
            if (c->res != r->len) read_one(r); /* short or failed: read it plainly */
            k++;
        }
        io_uring_cq_advance(&ring, k);
        done += k;
    }
}
#endif

static struct {
    pthread_mutex_t m;
    pthread_cond_t go, idle;
    int gen, busy, n;
    range *a;
    atomic_int next;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL, 0};

static void drain(void) {
    for (int i; (i = atomic_fetch_add(&pool.next, 1)) < pool.n;) read_one(&pool.a[i]);
}

static void *pool_worker(void *arg) {
    (void)arg;
    int seen = 0;
    pthread_mutex_lock(&pool.m);
    for (;;) {
        while (pool.gen == seen) pthread_cond_wait(&pool.go, &pool.m);
        seen = pool.gen;
        pool.busy++;
        pthread_mutex_unlock(&pool.m);
        drain();
        pthread_mutex_lock(&pool.m);
        if (--pool.busy == 0) pthread_cond_broadcast(&pool.idle);
    }
    return NULL;
}

static void threads(range *a, int n) {
    pthread_mutex_lock(&pool.m);
    pool.a = a;
    pool.n = n;
    atomic_store(&pool.next, 0);
    pool.gen++;
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.m);
    drain();
    pthread_mutex_lock(&pool.m);
    while (pool.busy || atomic_load(&pool.next) < n) pthread_cond_wait(&pool.idle, &pool.m);
    pthread_mutex_unlock(&pool.m);
}

static void drop_caches(void) {
    sync();
    int f = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (f < 0 || write(f, "3\n", 2) != 2) die("drop_caches (needs root)");
    close(f);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s RANGES MODE SCOPE\n", argv[0]);
        return 2;
    }
    const char *mode = argv[2];
    int all = !strcmp(argv[3], "all"), random = !strcmp(mode, "uring-random");
    void (*fn)(range *, int) = NULL;
    if (!strcmp(mode, "plain")) fn = plain;
    else if (!strcmp(mode, "willneed")) fn = willneed;
    else if (!strncmp(mode, "threads:", 8)) fn = threads;
#ifndef NO_URING
    else if (!strncmp(mode, "uring", 5)) fn = uring;
#endif
    if (!fn) {
        fprintf(stderr, "unknown or unavailable mode %s\n", mode);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) die(argv[1]);
    int cap = 1024, n = 0, np = 0, nf = 0, *start = malloc(sizeof(int) * (cap + 1));
    range *r = malloc(sizeof(range) * cap);
    char (*names)[4096] = malloc(sizeof *names * 1024), line[4200], name[4096];
    int *fds = malloc(sizeof(int) * 1024);
    start[np++] = 0;
    while (fgets(line, sizeof line, f)) {
        long off, len;
        if (line[0] == '\n') {
            if (start[np - 1] < n) start[np++] = n;
            continue;
        }
        if (sscanf(line, "%4095s %ld %ld", name, &off, &len) != 3) continue;
        int k = 0;
        while (k < nf && strcmp(names[k], name)) k++;
        if (k == nf) {
            if (nf == 1024) die("more than 1024 files");
            strcpy(names[nf], name);
            if ((fds[nf] = open(name, O_RDONLY)) < 0) die(name);
            if (random) posix_fadvise(fds[nf], 0, 0, POSIX_FADV_RANDOM);
            nf++;
        }
        if (n == cap) {
            cap *= 2;
            r = realloc(r, sizeof(range) * cap);
            start = realloc(start, sizeof(int) * (cap + 1));
        }
        r[n] = (range){fds[k], off, len, malloc(len)};
        if (!r[n].buf) die("malloc");
        n++;
    }
    if (start[np - 1] < n) start[np++] = n;
    np--; /* start[np] == n */
#ifndef NO_URING
    if (fn == uring && io_uring_queue_init(256, &ring, 0) < 0) die("io_uring_queue_init");
#endif
    if (fn == threads) {
        int k = atoi(mode + 8);
        for (int i = 1; i < k; i++) { /* the caller is the k-th */
            pthread_t t;
            if (pthread_create(&t, NULL, pool_worker, NULL)) die("pthread_create");
        }
    }
    drop_caches();
    double t0 = now();
    if (all) fn(r, n);
    else
        for (int p = 0; p < np; p++) fn(r + start[p], start[p + 1] - start[p]);
    printf("%.3f\n", (now() - t0) * 1e3);
    return 0;
}
