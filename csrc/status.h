/* The one error convention of the C core: every function that can fail
 * returns an OZF_* code and, when it has an ozf_status to fill, a message
 * that names what failed.  The Cython layer maps codes to Python exceptions
 * in one place (raise_status in _codecs.pxi). */
#ifndef OZF_STATUS_H
#define OZF_STATUS_H

#include <stddef.h>

#define OZF_ERRLEN 160

enum {
    OZF_OK = 0,
    OZF_EINVAL = 1,    /* bad arguments: a caller's mistake */
    OZF_ECORRUPT = 2,  /* the stored bytes are not what the format allows */
    OZF_ECHECKSUM = 3, /* a checksum does not match */
    OZF_ENOMEM = 4,    /* out of memory */
    OZF_ESIZE = 5,     /* data larger (or smaller) than it may be */
    OZF_EIO = 6,       /* the system failed us (read error, ...); oserr holds errno */
    OZF_EUNSAFE = 7,   /* a path resolves outside its root, or is not a regular file */
};
#define OZF_NSTATUS 8

typedef struct {
    int code;             /* OZF_OK or an OZF_E* value */
    int oserr;            /* errno for OZF_EIO (and OZF_EUNSAFE when the system said why), else 0 */
    char msg[OZF_ERRLEN]; /* human readable, names the failing codec, file or argument */
} ozf_status;

/* Sets st to success. */
void ozf_ok(ozf_status *st);

/* Fills st (code, printf-style message, oserr 0) and returns code. */
int ozf_fail(ozf_status *st, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ozf_fail for OZF_EIO with errno e; the message gets ": strerror(e)" appended. */
int ozf_fail_os(ozf_status *st, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* How many of st[0..n) failed. */
size_t ozf_count_failed(const ozf_status *st, size_t n);

#endif
