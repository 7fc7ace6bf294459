/* EXPERIMENT: reads every file task's bytes with io_uring, all submitted at once, before decoding. */
#define _GNU_SOURCE
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"

int ozf_uring_prefetch(const ozf_read_task *t, size_t n, size_t bound, ozf_read_task **out, uint8_t ***bufs) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += !t[i].src && t[i].fd >= 0 && t[i].srclen > 0 && t[i].srclen <= bound;
    if (m < 2) return -1;
    struct io_uring ring;
    unsigned depth = m < 256 ? (unsigned)m : 256;
    if (io_uring_queue_init(depth, &ring, 0) < 0) return -1;
    ozf_read_task *c = malloc(n * sizeof *c);
    uint8_t **b = calloc(n, sizeof *b);
    if (!c || !b) { free(c); free(b); io_uring_queue_exit(&ring); return -1; }
    memcpy(c, t, n * sizeof *c);
    size_t next = 0, inflight = 0;
    for (;;) {
        while (next < n && inflight < depth) {
            size_t i = next++;
            if (t[i].src || t[i].fd < 0 || t[i].srclen == 0 || t[i].srclen > bound) continue;
            b[i] = malloc(t[i].srclen);
            if (!b[i]) continue;
            struct io_uring_sqe *s = io_uring_get_sqe(&ring);
            io_uring_prep_read(s, t[i].fd, b[i], (unsigned)t[i].srclen, t[i].offset);
            io_uring_sqe_set_data64(s, i);
            inflight++;
        }
        if (!inflight) break;
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe *q;
        unsigned head, k = 0;
        io_uring_for_each_cqe(&ring, head, q) {
            size_t i = (size_t)io_uring_cqe_get_data64(q);
            if (q->res == (int)t[i].srclen) c[i].src = b[i];  /* else: the task preads itself */
            k++;
        }
        io_uring_cq_advance(&ring, k);
        inflight -= k;
    }
    io_uring_queue_exit(&ring);
    *out = c;
    *bufs = b;
    return 0;
}
