/* Generic row kernels: any strides, factors and block sizes, every dtype and
 * method.  The semantics are stated in downsample.h. */
#include <stddef.h>
#include <stdint.h>

#include "downsample.h"
#include "downsample_kernels.h"

typedef __int128 i128;

/* floor(s / c) rounded half to even, c > 0. */
static inline int64_t div_even64(int64_t s, int64_t c) {
    int64_t q = s / c, r = s % c;
    if (r < 0) {
        q -= 1;
        r += c;
    }
    if (2 * r > c || (2 * r == c && (q & 1))) q += 1;
    return q;
}

static inline i128 div_even128(i128 s, int64_t c) {
    i128 q = s / c, r = s % c;
    if (r < 0) {
        q -= 1;
        r += c;
    }
    if (2 * r > c || (2 * r == c && (q & 1))) q += 1;
    return q;
}

#define SAMPLE(T, a, r, k) (*(const T *)((a)->rows[r] + (k) * (a)->is))
#define OUT(T, a, j)       (*(T *)((a)->out + (j) * (a)->os))

/* Integer order, and float order with NaN after every number (as np.sort). */
#define LT_INT(x, y) ((x) < (y))
#define EQ_INT(x, y) ((x) == (y))
#define LT_FLT(x, y) ((x) < (y) || ((y) != (y) && (x) == (x)))
#define EQ_FLT(x, y) ((x) == (y) || ((x) != (x) && (y) != (y)))

#define DEFINE_SORT(NAME, T, LT)                                                                             \
    static void sort_##NAME(T *v, int64_t n) {                                                               \
        if (n <= 24) {                                                                                       \
            for (int64_t i = 1; i < n; i++) {                                                                \
                T x = v[i];                                                                                  \
                int64_t k = i;                                                                               \
                while (k > 0 && LT(x, v[k - 1])) {                                                           \
                    v[k] = v[k - 1];                                                                         \
                    k--;                                                                                     \
                }                                                                                            \
                v[k] = x;                                                                                    \
            }                                                                                                \
            return;                                                                                          \
        }                                                                                                    \
        /* Heapsort: no recursion, no worst case, blocks this big are rare. */                               \
        for (int64_t start = n / 2 - 1; start >= 0; start--) {                                               \
            int64_t root = start;                                                                            \
            for (;;) {                                                                                       \
                int64_t child = 2 * root + 1;                                                                \
                if (child >= n) break;                                                                       \
                if (child + 1 < n && LT(v[child], v[child + 1])) child++;                                    \
                if (!LT(v[root], v[child])) break;                                                           \
                T t = v[root];                                                                               \
                v[root] = v[child];                                                                          \
                v[child] = t;                                                                                \
                root = child;                                                                                \
            }                                                                                                \
        }                                                                                                    \
        for (int64_t end = n - 1; end > 0; end--) {                                                          \
            T t = v[0];                                                                                      \
            v[0] = v[end];                                                                                   \
            v[end] = t;                                                                                      \
            int64_t root = 0;                                                                                \
            for (;;) {                                                                                       \
                int64_t child = 2 * root + 1;                                                                \
                if (child >= end) break;                                                                     \
                if (child + 1 < end && LT(v[child], v[child + 1])) child++;                                  \
                if (!LT(v[root], v[child])) break;                                                           \
                T u = v[root];                                                                               \
                v[root] = v[child];                                                                          \
                v[child] = u;                                                                                \
                root = child;                                                                                \
            }                                                                                                \
        }                                                                                                    \
    }

/* Gathers the block of output j into scratch; returns the sample count. */
#define DEFINE_GATHER(NAME, T)                                                                               \
    static int64_t gather_##NAME(const ozf_row_args *a, int64_t j) {                                         \
        T *buf = (T *)a->scratch;                                                                            \
        int64_t k0 = j * a->fl, kn = a->n_in - k0 < a->fl ? a->n_in - k0 : a->fl;                            \
        int64_t n = 0;                                                                                       \
        for (int64_t r = 0; r < a->R; r++)                                                                   \
            for (int64_t k = 0; k < kn; k++) buf[n++] = SAMPLE(T, a, r, k0 + k);                             \
        return n;                                                                                            \
    }

#define DEFINE_MODE(NAME, T, EQ)                                                                             \
    static void mode_##NAME(const ozf_row_args *a) {                                                         \
        T *buf = (T *)a->scratch;                                                                            \
        for (int64_t j = a->j0; j < a->j1; j++) {                                                            \
            int64_t n = gather_##NAME(a, j);                                                                 \
            sort_##NAME(buf, n);                                                                             \
            /* Runs in ascending order, strict > keeps the smallest on ties. */                              \
            T best = buf[0];                                                                                 \
            int64_t bestc = 0, i = 0;                                                                        \
            while (i < n) {                                                                                  \
                int64_t e = i + 1;                                                                           \
                while (e < n && EQ(buf[e], buf[i])) e++;                                                     \
                if (e - i > bestc) {                                                                         \
                    bestc = e - i;                                                                           \
                    best = buf[i];                                                                           \
                }                                                                                            \
                i = e;                                                                                       \
            }                                                                                                \
            OUT(T, a, j) = best;                                                                             \
        }                                                                                                    \
    }

#define DEFINE_MEDIAN_INT(NAME, T)                                                                           \
    static void median_##NAME(const ozf_row_args *a) {                                                       \
        T *buf = (T *)a->scratch;                                                                            \
        for (int64_t j = a->j0; j < a->j1; j++) {                                                            \
            int64_t n = gather_##NAME(a, j);                                                                 \
            sort_##NAME(buf, n);                                                                             \
            OUT(T, a, j) = buf[(n - 1) / 2];                                                                 \
        }                                                                                                    \
    }

#define DEFINE_MEDIAN_FLT(NAME, T)                                                                           \
    static void median_##NAME(const ozf_row_args *a) {                                                       \
        T *buf = (T *)a->scratch;                                                                            \
        for (int64_t j = a->j0; j < a->j1; j++) {                                                            \
            int64_t n = gather_##NAME(a, j);                                                                 \
            sort_##NAME(buf, n);                                                                             \
            T m;                                                                                             \
            if (buf[n - 1] != buf[n - 1])                                                                    \
                m = buf[n - 1]; /* NaN sorts last */                                                         \
            else if (n & 1)                                                                                  \
                m = buf[n / 2];                                                                              \
            else                                                                                             \
                m = (T)(((double)buf[n / 2 - 1] + (double)buf[n / 2]) / 2.0);                                \
            OUT(T, a, j) = m;                                                                                \
        }                                                                                                    \
    }

/* ACC: accumulator type; FINISH(s, c): the dtype's mean of sum s over c. */
#define DEFINE_MEAN(NAME, T, ACC, FINISH)                                                                    \
    static void mean_##NAME(const ozf_row_args *a) {                                                         \
        for (int64_t j = a->j0; j < a->j1; j++) {                                                            \
            int64_t k0 = j * a->fl;                                                                          \
            int64_t kn = a->n_in - k0 < a->fl ? a->n_in - k0 : a->fl;                                        \
            ACC s = 0;                                                                                       \
            for (int64_t r = 0; r < a->R; r++)                                                               \
                for (int64_t k = 0; k < kn; k++) s += SAMPLE(T, a, r, k0 + k);                               \
            OUT(T, a, j) = (T)FINISH(s, a->R * kn);                                                          \
        }                                                                                                    \
    }

#define FINISH_FLT(s, c)  ((s) / (double)(c))
#define FINISH_I64(s, c)  div_even64((s), (c))
#define FINISH_I128(s, c) div_even128((s), (c))

/* PICK(m, v): the running min or max; for floats a NaN sticks. */
#define MIN_INT(m, v) ((v) < (m) ? (v) : (m))
#define MAX_INT(m, v) ((v) > (m) ? (v) : (m))
#define MIN_FLT(m, v) (((v) < (m) || (v) != (v)) ? (v) : (m))
#define MAX_FLT(m, v) (((v) > (m) || (v) != (v)) ? (v) : (m))

#define DEFINE_EXTREME(NAME, KIND, T, PICK)                                                                  \
    static void KIND##_##NAME(const ozf_row_args *a) {                                                       \
        for (int64_t j = a->j0; j < a->j1; j++) {                                                            \
            int64_t k0 = j * a->fl;                                                                          \
            int64_t kn = a->n_in - k0 < a->fl ? a->n_in - k0 : a->fl;                                        \
            T m = SAMPLE(T, a, 0, k0);                                                                       \
            for (int64_t r = 0; r < a->R; r++)                                                               \
                for (int64_t k = 0; k < kn; k++) {                                                           \
                    T v = SAMPLE(T, a, r, k0 + k);                                                           \
                    m = PICK(m, v);                                                                          \
                }                                                                                            \
            OUT(T, a, j) = m;                                                                                \
        }                                                                                                    \
    }

#define DEFINE_STRIDE(NAME, T)                                                                               \
    static void stride_##NAME(const ozf_row_args *a) {                                                       \
        for (int64_t j = a->j0; j < a->j1; j++) OUT(T, a, j) = SAMPLE(T, a, 0, j * a->fl);                   \
    }

#define DEFINE_INT(NAME, T, ACC, FINISH)                                                                     \
    DEFINE_SORT(NAME, T, LT_INT)                                                                             \
    DEFINE_GATHER(NAME, T)                                                                                   \
    DEFINE_MODE(NAME, T, EQ_INT)                                                                             \
    DEFINE_MEDIAN_INT(NAME, T)                                                                               \
    DEFINE_MEAN(NAME, T, ACC, FINISH)                                                                        \
    DEFINE_EXTREME(NAME, min, T, MIN_INT)                                                                    \
    DEFINE_EXTREME(NAME, max, T, MAX_INT)                                                                    \
    DEFINE_STRIDE(NAME, T)

#define DEFINE_FLT(NAME, T)                                                                                  \
    DEFINE_SORT(NAME, T, LT_FLT)                                                                             \
    DEFINE_GATHER(NAME, T)                                                                                   \
    DEFINE_MODE(NAME, T, EQ_FLT)                                                                             \
    DEFINE_MEDIAN_FLT(NAME, T)                                                                               \
    DEFINE_MEAN(NAME, T, double, FINISH_FLT)                                                                 \
    DEFINE_EXTREME(NAME, min, T, MIN_FLT)                                                                    \
    DEFINE_EXTREME(NAME, max, T, MAX_FLT)                                                                    \
    DEFINE_STRIDE(NAME, T)

DEFINE_INT(u8, uint8_t, int64_t, FINISH_I64)
DEFINE_INT(u16, uint16_t, int64_t, FINISH_I64)
DEFINE_INT(u32, uint32_t, i128, FINISH_I128)
DEFINE_INT(u64, uint64_t, i128, FINISH_I128)
DEFINE_INT(i8, int8_t, int64_t, FINISH_I64)
DEFINE_INT(i16, int16_t, int64_t, FINISH_I64)
DEFINE_INT(i32, int32_t, i128, FINISH_I128)
DEFINE_INT(i64, int64_t, i128, FINISH_I128)
DEFINE_FLT(f32, float)
DEFINE_FLT(f64, double)

#define KERNELS(NAME)                                                                                        \
    { mean_##NAME, mode_##NAME, median_##NAME, min_##NAME, max_##NAME, stride_##NAME }

static const ozf_row_fn table[10][6] = {
    KERNELS(u8),  KERNELS(u16), KERNELS(u32), KERNELS(u64), KERNELS(i8),
    KERNELS(i16), KERNELS(i32), KERNELS(i64), KERNELS(f32), KERNELS(f64),
};

ozf_row_fn ozf_ds_generic_kernel(int dtype, int method) {
    if (dtype < 0 || dtype > OZF_DT_F64 || method < 0 || method > OZF_DS_STRIDE) return NULL;
    return table[dtype][method];
}
