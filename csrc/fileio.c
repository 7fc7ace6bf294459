#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "threadpool.h"

typedef struct {
    const char *const *paths;
    int *fds;
    int64_t *sizes;
} open_ctx;

static void open_one(void *vctx, size_t i)
{
    open_ctx *c = vctx;
    int fd = open(c->paths[i], O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        int e = errno;
        c->fds[i] = -1;
        c->sizes[i] = (e == ENOENT || e == ENOTDIR || e == EISDIR) ? -1 : -(int64_t)e;
        return;
    }
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? 0 : errno;
        close(fd);
        c->fds[i] = -1;
        c->sizes[i] = e ? -(int64_t)e : -1;
        return;
    }
    c->fds[i] = fd;
    c->sizes[i] = (int64_t)st.st_size;
}

void ozf_files_open(size_t n, const char *const *paths, int *fds, int64_t *sizes)
{
    open_ctx c = {paths, fds, sizes};
    ozf_parallel_for(n, open_one, &c);
}

typedef struct {
    int *fds;
    const int64_t *offsets, *lengths;
    char *const *bufs;
    int64_t *got;
} read_ctx;

static void read_one(void *vctx, size_t i)
{
    read_ctx *c = vctx;
    int fd = c->fds[i];
    if (fd < 0)
        return;
    int64_t done = 0, want = c->lengths[i];
    while (done < want) {
        ssize_t r = pread(fd, c->bufs[i] + done, (size_t)(want - done), (off_t)(c->offsets[i] + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            done = -(int64_t)errno;
            break;
        }
        if (r == 0)
            break;
        done += r;
    }
    c->got[i] = done;
    close(fd);
    c->fds[i] = -1;
}

void ozf_files_read_close(size_t n, int *fds, const int64_t *offsets, const int64_t *lengths,
                          char *const *bufs, int64_t *got)
{
    read_ctx c = {fds, offsets, lengths, bufs, got};
    ozf_parallel_for(n, read_one, &c);
}
