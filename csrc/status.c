#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ozf_ok(ozf_status *st) {
    st->code = OZF_OK;
    st->oserr = 0;
    st->msg[0] = 0;
}

int ozf_fail(ozf_status *st, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
    st->code = code;
    st->oserr = 0;
    return code;
}

int ozf_fail_os(ozf_status *st, int e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof st->msg) {
        char buf[96];
        /* strerror_r is not the same function in glibc and POSIX; strerror
         * with a copy is thread-safe for the known errno values glibc has. */
        snprintf(buf, sizeof buf, ": %s", strerror(e));
        strncat(st->msg, buf, sizeof st->msg - (size_t)n - 1);
    }
    st->code = OZF_EIO;
    st->oserr = e;
    return OZF_EIO;
}

size_t ozf_count_failed(const ozf_status *st, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += st[i].code != OZF_OK;
    return k;
}
