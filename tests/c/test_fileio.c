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

static void open_one(const char *root, const char *path, ozf_status *st, int64_t *size) {
    int fd;
    const char *paths[1] = {path};
    ozf_files_open(1, root, paths, &fd, size, st);
    if (fd >= 0) close(fd);
    if (st->code) CHECK(fd == -1);
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
    for (int i = 0; i < 3; i++) {
        open_one(root, good[i], &st, &size);
        CHECK(st.code == OZF_OK && size == 3);
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

    fail_fstat = 1;
    open_one(root, "f", &st, &size);
    fail_fstat = 0;
    CHECK(st.code == OZF_EIO && st.oserr == EIO && strstr(st.msg, "fstat"));
    CHECK(size == -1);
    printf("ok\n");
    return 0;
}
