/* Batched file reads for the local store, in two steps so the caller can
 * allocate buffers between them.
 *
 * The one policy for files the native reader opens: a file must resolve
 * inside the root it is read under (symlinks that stay inside are followed;
 * any that lead out are refused) and must be a regular file.  A directory
 * reads as missing, as zarr's LocalStore does; a FIFO, device or socket is
 * refused without blocking on it.
 *
 * ozf_files_open: opens every root/paths[i] (paths relative to root; with
 *   root NULL, paths as given and no containment check) read-only and records
 *   its size.  Per file, st[i] says how it went:
 *     OZF_OK      fds[i] >= 0 and sizes[i] = its size, or, when the path is
 *                 missing, a directory or under a non-directory, fds[i] = -1
 *                 and sizes[i] = -1 ("no such key");
 *     OZF_EUNSAFE it resolves outside root, or is not a regular file;
 *     OZF_EIO     any other failure (st[i].oserr is the errno).
 *   With any error fds[i] = -1.  ids, when not NULL, gets each open file's
 *   identity (device, inode, mtime and ctime in ns; with sizes[i], what a
 *   cache of its contents is checked against), taken on the fd itself.
 *
 * ozf_files_read_close: for every i with fds[i] >= 0, reads lengths[i] bytes
 *   at offsets[i] into bufs[i] (fewer at end of file), stores the count in
 *   got[i] (st[i] OZF_EIO on a read error), and closes fds[i].  Every open fd
 *   is closed, whatever happens, so a caller that fails between the two steps
 *   calls it with lengths of 0.
 *
 * Both run on the thread pool (a few files open on the calling thread: a
 * wake-up of the pool costs more than they do); neither touches Python.
 */
#ifndef OZF_FILEIO_H
#define OZF_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef struct {
    int64_t dev, ino, mtime_ns, ctime_ns;
} ozf_file_id;

void ozf_files_open(size_t n, const char *root, const char *const *paths, int *fds, int64_t *sizes,
                    ozf_file_id *ids, ozf_status *st);
void ozf_files_read_close(size_t n, int *fds, const int64_t *offsets, const int64_t *lengths,
                          char *const *bufs, int64_t *got, ozf_status *st);

#endif
