/* csrc/fileio.c on its own, run by tests/test_fileio_c.py: the file policy
 * (inside the root, regular files only, FIFOs refused without blocking) on
 * both resolution routes (build with -DOZF_NO_OPENAT2 for the realpath one),
 * and a failing fstat (linked with -Wl,--wrap=fstat) reported as an I/O
 * error, never judged from the struct stat it left undefined.
 * Usage: test_fileio DIR (an empty scratch directory).  Prints "ok". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "threadpool.h"

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            printf("FAILED: %s (line %d)\n", #cond, __LINE__);        \
            exit(1);                                                  \
        }                                                             \
    } while (0)

/* fstat that can be made to fail, leaving st_mode looking like a directory
 * (what uninitialised stack memory may hold). */
static int fail_fstat;
int __real_fstat(int fd, struct stat *st);
int __wrap_fstat(int fd, struct stat *st) {
    if (fail_fstat) {
        st->st_mode = S_IFDIR | 0755;
        errno = EIO;
        return -1;
    }
    return __real_fstat(fd, st);
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
}

static ozf_file_id last_id;

static void open_one(const char *root, const char *path, ozf_status *st, int64_t *size) {
    int fd;
    const char *paths[1] = {path};
    ozf_files_open(1, root, paths, &fd, size, &last_id, st);
    if (fd >= 0) close(fd);
    if (st->code) CHECK(fd == -1);
}

/* Many paths at once (more than open on the calling thread, so on the pool),
 * policy routes mixed: each gets what it gets alone. */
static void open_many(const char *root) {
    const char *paths[] = {"f", "abs-in", "nothing", "rel-out", "rel-in", "d", "f", "abs-out",
                           "f/under", "rel-in", "f", "fifo"};
    enum { N = sizeof paths / sizeof *paths };
    int fds[N];
    int64_t sizes[N];
    ozf_file_id ids[N];
    ozf_status st[N];
    ozf_files_open(N, root, paths, fds, sizes, ids, st);
    for (int i = 0; i < N; i++) {
        ozf_status one;
        int64_t size;
        open_one(root, paths[i], &one, &size);
        CHECK(st[i].code == one.code && sizes[i] == size);
        CHECK((fds[i] >= 0) == (st[i].code == OZF_OK && size >= 0));
        if (fds[i] >= 0) {
            CHECK(ids[i].ino == last_id.ino && ids[i].dev == last_id.dev);
            close(fds[i]);
        }
    }
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char root[4096], p[4200], q[4200];
    snprintf(root, sizeof root, "%s/root", argv[1]);
    CHECK(mkdir(root, 0755) == 0);
    snprintf(p, sizeof p, "%s/d", root);
    CHECK(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/f", root);
    put(p, "abc");
    snprintf(p, sizeof p, "%s/out", argv[1]);
    put(p, "secret");
    snprintf(q, sizeof q, "%s/abs-out", root);
    CHECK(symlink(p, q) == 0);
    snprintf(q, sizeof q, "%s/rel-out", root);
    CHECK(symlink("../out", q) == 0);
    snprintf(p, sizeof p, "%s/f", root);
    snprintf(q, sizeof q, "%s/abs-in", root);
    CHECK(symlink(p, q) == 0);
    snprintf(q, sizeof q, "%s/rel-in", root);
    CHECK(symlink("d/../f", q) == 0);
    snprintf(q, sizeof q, "%s/fifo", root);
    CHECK(mkfifo(q, 0644) == 0);

    ozf_status st;
    int64_t size;
    const char *good[] = {"f", "abs-in", "rel-in"};
    snprintf(p, sizeof p, "%s/f", root);
    struct stat fs;
    CHECK(stat(p, &fs) == 0);
    for (int i = 0; i < 3; i++) {
        open_one(root, good[i], &st, &size);
        CHECK(st.code == OZF_OK && size == 3);
        /* the identity of the file itself, through any symlink */
        CHECK(last_id.ino == (int64_t)fs.st_ino && last_id.dev == (int64_t)fs.st_dev &&
              last_id.mtime_ns == (int64_t)fs.st_mtim.tv_sec * 1000000000 + fs.st_mtim.tv_nsec &&
              last_id.ctime_ns == (int64_t)fs.st_ctim.tv_sec * 1000000000 + fs.st_ctim.tv_nsec);
    }
    const char *missing[] = {"d", "nothing", "f/under"};
    for (int i = 0; i < 3; i++) {
        open_one(root, missing[i], &st, &size);
        CHECK(st.code == OZF_OK && size == -1);
    }
    const char *out[] = {"abs-out", "rel-out", "../out"};
    for (int i = 0; i < 3; i++) {
        open_one(root, out[i], &st, &size);
        CHECK(st.code == OZF_EUNSAFE && strstr(st.msg, "outside"));
    }
    open_one(root, "fifo", &st, &size);  /* returns at once: no writer is waited for */
    CHECK(st.code == OZF_EUNSAFE && strstr(st.msg, "not a regular file"));
    open_one(NULL, q, &st, &size);
    CHECK(st.code == OZF_EUNSAFE);
    ozf_pool_set_threads(4);
    open_many(root);
    ozf_pool_set_threads(1);

    fail_fstat = 1;
    open_one(root, "f", &st, &size);
    fail_fstat = 0;
    CHECK(st.code == OZF_EIO && st.oserr == EIO && strstr(st.msg, "fstat"));
    CHECK(size == -1);
    printf("ok\n");
    return 0;
}
