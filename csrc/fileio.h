/* Batched file reads for the local store, in two steps so the caller can
 * allocate buffers between them.
 *
 * ozf_files_open: opens every path read-only and records its size.
 *   fds[i] >= 0 and sizes[i] >= 0 on success; fds[i] = -1 and sizes[i] = -1
 *   when the path is missing, a directory, or under a non-directory (zarr's
 *   LocalStore reads those as "no such key"); fds[i] = -1 and
 *   sizes[i] = -errno on any other error.
 *
 * ozf_files_read_close: for every i with fds[i] >= 0, reads lengths[i] bytes
 *   at offsets[i] into bufs[i] (fewer at end of file), stores the count in
 *   got[i] (or -errno), and closes fds[i].  Every open fd is closed, whatever
 *   happens, so a caller that fails between the two steps calls it with
 *   lengths of 0.
 *
 * Both run on the thread pool; neither touches Python.
 */
#ifndef OZF_FILEIO_H
#define OZF_FILEIO_H

#include <stddef.h>
#include <stdint.h>

void ozf_files_open(size_t n, const char *const *paths, int *fds, int64_t *sizes);
void ozf_files_read_close(size_t n, int *fds, const int64_t *offsets, const int64_t *lengths,
                          char *const *bufs, int64_t *got);

#endif
