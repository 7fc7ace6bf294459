#define _GNU_SOURCE
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/syscall.h>
#ifndef SYS_openat2
#define SYS_openat2 437 /* the same on every Linux architecture since 5.6 */
#endif
/* linux/openat2.h, which older build images lack. */
struct ozf_open_how {
    uint64_t flags, mode, resolve;
};
#define OZF_RESOLVE_NO_MAGICLINKS 0x02
#define OZF_RESOLVE_BENEATH       0x08
#endif

#include "threadpool.h"

/* O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore it). */
#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK)

typedef struct {
    const char *root;
    int rootfd;            /* root opened as a directory, or -1 */
    int root_errno;        /* why it could not be opened */
    const char *real_root; /* realpath(root): computed only when a path needs it */
    const char *const *paths;
    int *fds;
    int64_t *sizes;
    ozf_file_id *ids;
    ozf_status *st;
} open_ctx;

/* Up to this many files open on the calling thread: opening a file whose
 * directory entries are cached takes a few microseconds, less than waking a
 * pool thread (a single patch touches at most 8 shards). */
#define OZF_OPEN_INLINE 8
/* sizes[i] while the fast route could not decide: the realpath route opens it. */
#define NEEDS_RESOLVE (-2)

#if defined(__linux__) && !defined(OZF_NO_OPENAT2) /* tests build without it to check the other route */
#define OZF_TRY_OPENAT2 1
/* 0: the kernel has no openat2 (or a sandbox forbids it); then every open
 * takes the realpath route. */
static atomic_int have_openat2 = 1;
#endif

static int missing(int e) { return e == ENOENT || e == ENOTDIR; }

/* The fast route: the kernel resolves path under rootfd and refuses to leave
 * it.  Returns the fd, or -errno. */
static int open_beneath(int rootfd, const char *path) {
#ifdef OZF_TRY_OPENAT2
    if (atomic_load_explicit(&have_openat2, memory_order_relaxed)) {
        struct ozf_open_how how = {OPEN_FLAGS, 0, OZF_RESOLVE_BENEATH | OZF_RESOLVE_NO_MAGICLINKS};
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd >= 0) return (int)fd;
        if (errno != ENOSYS && errno != EPERM) return -errno;
        atomic_store_explicit(&have_openat2, 0, memory_order_relaxed);
    }
#endif
    (void)rootfd;
    (void)path;
    return -EXDEV; /* "could not prove it stays inside": the realpath route decides */
}

/* The portable route, and the judge when the fast one refuses (RESOLVE_BENEATH
 * refuses every absolute symlink, even one that points inside the root):
 * resolve the whole path, check it lies under the resolved root, open the
 * result without following a final symlink.  Returns the fd, -errno, or
 * INT_MIN when the path leads out of the root. */
static int open_resolved(const open_ctx *c, const char *path) {
    char joined[PATH_MAX], real[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", c->root, path) >= sizeof joined)
        return -ENAMETOOLONG;
    if (!realpath(joined, real)) return -errno;
    size_t n = strlen(c->real_root);
    int inside =
        strncmp(real, c->real_root, n) == 0 && (real[n] == '/' || (n == 1 && c->real_root[0] == '/'));
    if (!inside) return INT_MIN;
    int fd = open(real, OPEN_FLAGS | O_NOFOLLOW);
    return fd >= 0 ? fd : -errno;
}

/* Records what opening paths[i] gave (fd, or -errno, or INT_MIN for a path
 * leading out of the root): the fd and size of a regular file, "no such key"
 * for a missing path or a directory, an error otherwise. */
static void opened(const open_ctx *c, size_t i, int fd) {
    const char *path = c->paths[i];
    ozf_status *st = &c->st[i];
    if (fd == INT_MIN) {
        ozf_fail(st, OZF_EUNSAFE, "%s resolves outside the root %s", path, c->root);
        return;
    }
    if (fd < 0) {
        if (!missing(-fd)) ozf_fail_os(st, -fd, "opening %s", path);
        return;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        /* sb is undefined here: nothing of it may be read. */
        ozf_fail_os(st, errno, "fstat of %s", path);
        close(fd);
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd); /* a directory: "no such key", as LocalStore */
        return;
    }
    if (!S_ISREG(sb.st_mode)) {
        ozf_fail(st, OZF_EUNSAFE, "%s is not a regular file", path);
        close(fd);
        return;
    }
    c->fds[i] = fd;
    c->sizes[i] = (int64_t)sb.st_size;
    if (c->ids)
        c->ids[i] = (ozf_file_id){(int64_t)sb.st_dev, (int64_t)sb.st_ino,
                                  (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec,
                                  (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec};
}

static void open_one(void *vctx, size_t i) {
    open_ctx *c = vctx;
    ozf_ok(&c->st[i]);
    c->fds[i] = -1;
    c->sizes[i] = -1;
    int fd;
    if (!c->root) {
        fd = open(c->paths[i], OPEN_FLAGS);
        if (fd < 0) fd = -errno;
    } else if (c->rootfd < 0) {
        /* A missing root: everything under it is missing too. */
        if (!missing(c->root_errno)) ozf_fail_os(&c->st[i], c->root_errno, "opening the root %s", c->root);
        return;
    } else {
        fd = open_beneath(c->rootfd, c->paths[i]);
        if (fd == -EXDEV || fd == -ELOOP) {
            c->sizes[i] = NEEDS_RESOLVE;
            return;
        }
    }
    opened(c, i, fd);
}

static void open_one_resolved(void *vctx, size_t i) {
    open_ctx *c = vctx;
    if (c->sizes[i] != NEEDS_RESOLVE) return;
    c->sizes[i] = -1;
    opened(c, i, open_resolved(c, c->paths[i]));
}

static void run(size_t n, ozf_task_fn fn, void *ctx) {
    if (n <= OZF_OPEN_INLINE) {
        for (size_t i = 0; i < n; i++) fn(ctx, i);
    } else {
        ozf_parallel_for(n, fn, ctx);
    }
}

void ozf_files_open(size_t n, const char *root, const char *const *paths, int *fds, int64_t *sizes,
                    ozf_file_id *ids, ozf_status *st) {
    char real_root[PATH_MAX];
    open_ctx c = {root, -1, 0, NULL, paths, fds, sizes, ids, st};
    if (root) {
        c.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.rootfd < 0) c.root_errno = errno;
    }
    run(n, open_one, &c);
    /* Paths the kernel could not prove stay inside (symlinks, or no openat2):
     * resolved against the resolved root, which only they need. */
    size_t resolve = 0;
    for (size_t i = 0; i < n; i++) resolve += sizes[i] == NEEDS_RESOLVE;
    if (resolve) {
        if (realpath(root, real_root)) {
            c.real_root = real_root;
            run(n, open_one_resolved, &c);
        } else {
            int e = errno; /* the root went away (missing: so are its keys) */
            for (size_t i = 0; i < n; i++)
                if (sizes[i] == NEEDS_RESOLVE) {
                    sizes[i] = -1;
                    if (!missing(e)) ozf_fail_os(&st[i], e, "resolving the root %s", root);
                }
        }
    }
    if (c.rootfd >= 0) close(c.rootfd);
}

typedef struct {
    int *fds;
    const int64_t *offsets, *lengths;
    char *const *bufs;
    int64_t *got;
    ozf_status *st;
} read_ctx;

static void read_one(void *vctx, size_t i) {
    read_ctx *c = vctx;
    int fd = c->fds[i];
    if (fd < 0) return;
    ozf_ok(&c->st[i]);
    int64_t done = 0, want = c->lengths[i];
    while (done < want) {
        ssize_t r = pread(fd, c->bufs[i] + done, (size_t)(want - done), (off_t)(c->offsets[i] + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            ozf_fail_os(&c->st[i], errno, "reading %lld bytes at offset %lld", (long long)want,
                        (long long)c->offsets[i]);
            break;
        }
        if (r == 0) break;
        done += r;
    }
    c->got[i] = done;
    close(fd);
    c->fds[i] = -1;
}

void ozf_files_read_close(size_t n, int *fds, const int64_t *offsets, const int64_t *lengths,
                          char *const *bufs, int64_t *got, ozf_status *st) {
    read_ctx c = {fds, offsets, lengths, bufs, got, st};
    ozf_parallel_for(n, read_one, &c);
}
