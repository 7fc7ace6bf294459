/* Stress test for csrc/threadpool.c, run by tests/test_threadpool_c.py.
 * Prints "ok" and exits 0, or names the failed check and exits 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "threadpool.h"

#define CHECK(cond) do { if (!(cond)) { printf("FAILED: %s (line %d)\n", #cond, __LINE__); exit(1); } } while (0)

static void square(void *ctx, size_t i) { ((long *)ctx)[i] = (long)(i * i); }

static int check_squares(size_t n) {
    long *v = calloc(n, sizeof *v);
    ozf_parallel_for(n, square, v);
    for (size_t i = 0; i < n; i++) if (v[i] != (long)(i * i)) { free(v); return 0; }
    free(v);
    return 1;
}

/* Each task runs a parallel_for of its own: the caller takes part, so this
 * must finish even when every worker is busy in an outer task. */
static atomic_long nested_sum;
static void inner(void *ctx, size_t i) { (void)ctx; atomic_fetch_add(&nested_sum, (long)i); }
static void outer(void *ctx, size_t i) { (void)ctx; (void)i; ozf_parallel_for(100, inner, NULL); }

static void *caller_thread(void *arg) {
    long ok = 1;
    for (int r = 0; r < 200; r++) ok &= check_squares(1 + (size_t)(r * 37 % 500));
    return (void *)ok;
}

int main(void) {
    ozf_pool_set_threads(4);
    CHECK(ozf_pool_get_threads() == 4);
    CHECK(check_squares(1));
    CHECK(check_squares(100000));

    atomic_init(&nested_sum, 0);
    ozf_parallel_for(50, outer, NULL);
    CHECK(atomic_load(&nested_sum) == 50L * 4950);

    /* Many threads submitting at once. */
    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, caller_thread, NULL);
    for (int i = 0; i < 8; i++) { void *ok; pthread_join(t[i], &ok); CHECK(ok == (void *)1); }

    /* Shrink and grow while idle. */
    ozf_pool_set_threads(2);
    CHECK(check_squares(10000));
    ozf_pool_set_threads(6);
    CHECK(check_squares(10000));

    /* The child of a fork has no workers; its pool must start its own. */
    pid_t pid = fork();
    if (pid == 0) _exit(check_squares(100000) && check_squares(7) ? 0 : 3);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(check_squares(100000));

    puts("ok");
    return 0;
}
