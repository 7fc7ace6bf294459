#include "tls.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <zstd.h>

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void tls_free(void *p) {
    ozf_tls *t = p;
    ZSTD_freeCCtx(t->zstd_c);
    ZSTD_freeDCtx(t->zstd_d);
    for (int i = 0; i < 13; i++) libdeflate_free_compressor(t->deflate_c[i]);
    libdeflate_free_decompressor(t->deflate_d);
    for (int i = 0; i < OZF_NSCRATCH; i++) free(t->scratch[i]);
    free(t);
}

static void make_key(void) { pthread_key_create(&key, tls_free); }

ozf_tls *ozf_tls_get(void) {
    pthread_once(&key_once, make_key);
    ozf_tls *t = pthread_getspecific(key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (t && pthread_setspecific(key, t) != 0) {
            free(t);
            t = NULL;
        }
    }
    return t;
}

uint8_t *ozf_tls_scratch(ozf_tls *t, int slot, size_t size) {
    if (size > t->scratch_cap[slot] || !t->scratch[slot]) {
        /* Grow geometrically so a run of slightly larger chunks does not
         * reallocate every time. */
        size_t cap = size + size / 4;
        if (size <= OZF_SCRATCH_KEEP && cap > OZF_SCRATCH_KEEP) cap = OZF_SCRATCH_KEEP;
        uint8_t *p = malloc(cap ? cap : 1);
        if (!p) return NULL;
        free(t->scratch[slot]);
        t->scratch[slot] = p;
        t->scratch_cap[slot] = cap;
    }
    return t->scratch[slot];
}

void ozf_tls_trim(ozf_tls *t, int slot) {
    if (t && t->scratch_cap[slot] > OZF_SCRATCH_KEEP) {
        free(t->scratch[slot]);
        t->scratch[slot] = NULL;
        t->scratch_cap[slot] = 0;
    }
}
