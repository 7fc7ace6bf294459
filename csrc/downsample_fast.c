/* Fast row kernels for the common pyramid blocks: factor 2 along a
 * contiguous last axis and R = 1, 2 or 4 input rows (2, 2x2, 2x2x2), for
 * mean, mode, median, min and max.
 *
 * Mean/min/max/median loops are written so gcc -O3 vectorises them: fixed
 * trip structure, restrict pointers, narrow accumulators where exact (u8 sums
 * of 8 fit in 16 bits), power-of-two divisions as shifts, branch-free sorting
 * networks.  Mode on 32/64-bit labels uses gcc vector extensions explicitly.
 * Contract in downsample_kernels.h. */
#include <math.h>
#include <stdint.h>

#include "downsample.h"
#include "downsample_kernels.h"

/* Hot loops get an AVX2 clone too; the loader picks it on CPUs that have it
 * (gcc ifunc), the default clone stays baseline SSE2. */
#ifdef OZF_NO_CLONES /* build with -DOZF_NO_CLONES to test the baseline code */
#define CLONES
#else
#define CLONES __attribute__((target_clones("avx2", "default")))
#endif

/* s / 2^k rounded half to even, with an arithmetic (floor) shift. */
#define RND(s, k) (((s) + ((1 << ((k)-1)) - 1) + (((s) >> (k)) & 1)) >> (k))

#define FAST_PROLOGUE(T)                                                                                     \
    int64_t j0 = a->j0, j1 = a->n_in / 2 < a->j1 ? a->n_in / 2 : a->j1;                                      \
    if (j1 <= j0) return a->j0;                                                                              \
    T *restrict o = (T *)a->out;                                                                             \
    const T *restrict p0 = (const T *)a->rows[0];                                                            \
    const T *restrict p1 = a->R > 1 ? (const T *)a->rows[1] : p0;                                            \
    const T *restrict p2 = a->R > 2 ? (const T *)a->rows[2] : p0;                                            \
    const T *restrict p3 = a->R > 3 ? (const T *)a->rows[3] : p0;

#define DEFINE_FAST_MEAN_INT(NAME, T, ACC)                                                                   \
    CLONES static int64_t fmean_##NAME(const ozf_row_args *a) {                                              \
        FAST_PROLOGUE(T)                                                                                     \
        switch (a->R) {                                                                                      \
        case 1:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                ACC s = (ACC)p0[2 * j] + p0[2 * j + 1];                                                      \
                o[j] = (T)RND(s, 1);                                                                         \
            }                                                                                                \
            break;                                                                                           \
        case 2:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                ACC s = (ACC)p0[2 * j] + p0[2 * j + 1] + p1[2 * j] + p1[2 * j + 1];                          \
                o[j] = (T)RND(s, 2);                                                                         \
            }                                                                                                \
            break;                                                                                           \
        case 4:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                ACC s = (ACC)p0[2 * j] + p0[2 * j + 1] + p1[2 * j] + p1[2 * j + 1] + p2[2 * j] +             \
                        p2[2 * j + 1] + p3[2 * j] + p3[2 * j + 1];                                           \
                o[j] = (T)RND(s, 3);                                                                         \
            }                                                                                                \
            break;                                                                                           \
        default: return a->j0;                                                                               \
        }                                                                                                    \
        return j1;                                                                                           \
    }

/* Float mean sums in double; a power-of-two count makes * (1/c) exact. */
#define DEFINE_FAST_MEAN_FLT(NAME, T)                                                                        \
    CLONES static int64_t fmean_##NAME(const ozf_row_args *a) {                                              \
        FAST_PROLOGUE(T)                                                                                     \
        switch (a->R) {                                                                                      \
        case 1:                                                                                              \
            for (int64_t j = j0; j < j1; j++) o[j] = (T)(((double)p0[2 * j] + p0[2 * j + 1]) * 0.5);         \
            break;                                                                                           \
        case 2:                                                                                              \
            for (int64_t j = j0; j < j1; j++)                                                                \
                o[j] = (T)(((double)p0[2 * j] + p0[2 * j + 1] + p1[2 * j] + p1[2 * j + 1]) * 0.25);          \
            break;                                                                                           \
        case 4:                                                                                              \
            for (int64_t j = j0; j < j1; j++)                                                                \
                o[j] = (T)(((double)p0[2 * j] + p0[2 * j + 1] + p1[2 * j] + p1[2 * j + 1] + p2[2 * j] +      \
                            p2[2 * j + 1] + p3[2 * j] + p3[2 * j + 1]) *                                     \
                           0.125);                                                                           \
            break;                                                                                           \
        default: return a->j0;                                                                               \
        }                                                                                                    \
        return j1;                                                                                           \
    }

/* Mode of n (4 or 8) integers without branches: pair counts, then the best
 * (count, -value) by conditional moves.  Blocks on label boundaries mix
 * labels unpredictably, so a sort's mispredicted branches would dominate. */
#define DEFINE_FAST_MODE(NAME, T)                                                                            \
    static inline __attribute__((always_inline)) T mode_few_##NAME(const T *v, int n) {                      \
        int c[8] = {0};                                                                                      \
        for (int i = 1; i < n; i++)                                                                          \
            for (int j = 0; j < i; j++) {                                                                    \
                int e = v[i] == v[j];                                                                        \
                c[i] += e;                                                                                   \
                c[j] += e;                                                                                   \
            }                                                                                                \
        T best = v[0];                                                                                       \
        int bestc = c[0];                                                                                    \
        for (int i = 1; i < n; i++) {                                                                        \
            int better = c[i] > bestc || (c[i] == bestc && v[i] < best);                                     \
            best = better ? v[i] : best;                                                                     \
            bestc = better ? c[i] : bestc;                                                                   \
        }                                                                                                    \
        return best;                                                                                         \
    }                                                                                                        \
    /* Label volumes are mostly uniform blocks: test that first, branch-free. */                             \
    static int64_t fmode_##NAME(const ozf_row_args *a) {                                                     \
        FAST_PROLOGUE(T)                                                                                     \
        switch (a->R) {                                                                                      \
        case 1:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                T x = p0[2 * j], y = p0[2 * j + 1];                                                          \
                o[j] = y < x ? y : x;                                                                        \
            }                                                                                                \
            break;                                                                                           \
        case 2:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                T v[4] = {p0[2 * j], p0[2 * j + 1], p1[2 * j], p1[2 * j + 1]};                               \
                if (((v[0] ^ v[1]) | (v[0] ^ v[2]) | (v[0] ^ v[3])) == 0)                                    \
                    o[j] = v[0];                                                                             \
                else                                                                                         \
                    o[j] = mode_few_##NAME(v, 4);                                                            \
            }                                                                                                \
            break;                                                                                           \
        case 4:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                T v[8] = {p0[2 * j], p0[2 * j + 1], p1[2 * j], p1[2 * j + 1],                                \
                          p2[2 * j], p2[2 * j + 1], p3[2 * j], p3[2 * j + 1]};                               \
                T d = (v[0] ^ v[1]) | (v[0] ^ v[2]) | (v[0] ^ v[3]) | (v[0] ^ v[4]) | (v[0] ^ v[5]) |        \
                      (v[0] ^ v[6]) | (v[0] ^ v[7]);                                                         \
                o[j] = d == 0 ? v[0] : mode_few_##NAME(v, 8);                                                \
            }                                                                                                \
            break;                                                                                           \
        default: return a->j0;                                                                               \
        }                                                                                                    \
        return j1;                                                                                           \
    }

/* Vectorised mode for 32/64-bit labels on 2x2 (R = 2) and 2x2x2 (R = 4)
 * blocks: one vector lane per output, 32-byte gcc vectors (two SSE2
 * registers, or one AVX2 register in the avx2 clone picked at load time).
 * Lanes of a uniform group of outputs are stored at once; otherwise every
 * lane counts its equal pairs (compare masks are -1, so counts are negative)
 * and keeps the (most negative count, smallest value) candidate. */
#define DEFINE_VEC_MODE(NAME, T, VT, ST, L, EVEN, ODD)                                                       \
    typedef T VT __attribute__((vector_size(32), aligned(1)));                                               \
    typedef ST VT##_mask __attribute__((vector_size(32)));                                                   \
    static inline __attribute__((always_inline))                                                             \
    int64_t vmode_body_##NAME(const ozf_row_args *a, int64_t j0, int64_t j1, const int R) {                  \
        const int nv = 2 * R;                                                                                \
        T *o = (T *)a->out;                                                                                  \
        int64_t j = j0;                                                                                      \
        for (; j + L <= j1; j += L) {                                                                        \
            VT v[8];                                                                                         \
            for (int r = 0; r < R; r++) {                                                                    \
                const T *p = (const T *)a->rows[r] + 2 * j;                                                  \
                VT lo = *(const VT *)p, hi = *(const VT *)(p + L);                                           \
                v[2 * r] = __builtin_shuffle(lo, hi, (VT##_mask)EVEN);                                       \
                v[2 * r + 1] = __builtin_shuffle(lo, hi, (VT##_mask)ODD);                                    \
            }                                                                                                \
            VT d = v[1] ^ v[0];                                                                              \
            for (int i = 2; i < nv; i++) d |= v[i] ^ v[0];                                                   \
            uint64_t any = 0;                                                                                \
            for (int k = 0; k < L; k++) any |= (uint64_t)d[k];                                               \
            VT best = v[0];                                                                                  \
            if (any) {                                                                                       \
                VT##_mask c[8];                                                                              \
                for (int i = 0; i < nv; i++) c[i] = (VT##_mask){0};                                          \
                for (int i = 1; i < nv; i++)                                                                 \
                    for (int k = 0; k < i; k++) {                                                            \
                        VT##_mask e = (VT##_mask)(v[i] == v[k]);                                             \
                        c[i] += e;                                                                           \
                        c[k] += e;                                                                           \
                    }                                                                                        \
                VT##_mask bc = c[0];                                                                         \
                for (int i = 1; i < nv; i++) {                                                               \
                    VT##_mask better = (c[i] < bc) | ((c[i] == bc) & (VT##_mask)(v[i] < best));              \
                    best = (VT)((better & (VT##_mask)v[i]) | (~better & (VT##_mask)best));                   \
                    bc = (better & c[i]) | (~better & bc);                                                   \
                }                                                                                            \
            }                                                                                                \
            *(VT *)(o + j) = best;                                                                           \
        }                                                                                                    \
        return j;                                                                                            \
    }                                                                                                        \
    /* R as a constant lets gcc unroll the pair counts into registers. */                                    \
    CLONES                                                                                                   \
    static int64_t vmode2_##NAME(const ozf_row_args *a, int64_t j0, int64_t j1) {                            \
        return vmode_body_##NAME(a, j0, j1, 2);                                                              \
    }                                                                                                        \
    CLONES                                                                                                   \
    static int64_t vmode4_##NAME(const ozf_row_args *a, int64_t j0, int64_t j1) {                            \
        return vmode_body_##NAME(a, j0, j1, 4);                                                              \
    }

#define EVEN8                                                                                                \
    { 0, 2, 4, 6, 8, 10, 12, 14 }
#define ODD8                                                                                                 \
    { 1, 3, 5, 7, 9, 11, 13, 15 }
#define EVEN4                                                                                                \
    { 0, 2, 4, 6 }
#define ODD4                                                                                                 \
    { 1, 3, 5, 7 }
DEFINE_VEC_MODE(u32, uint32_t, v8u32, int32_t, 8, EVEN8, ODD8)
DEFINE_VEC_MODE(i32, int32_t, v8i32, int32_t, 8, EVEN8, ODD8)
DEFINE_VEC_MODE(u64, uint64_t, v4u64, int64_t, 4, EVEN4, ODD4)
DEFINE_VEC_MODE(i64, int64_t, v4i64, int64_t, 4, EVEN4, ODD4)

/* The vector groups first, then the scalar kernel for the remainder. */
#define VEC_THEN_SCALAR(NAME)                                                                                \
    static int64_t fmode_v_##NAME(const ozf_row_args *a) {                                                   \
        int64_t j1 = a->n_in / 2 < a->j1 ? a->n_in / 2 : a->j1;                                              \
        if (j1 <= a->j0 || (a->R != 2 && a->R != 4)) return fmode_##NAME(a);                                 \
        ozf_row_args rest = *a;                                                                              \
        rest.j0 = a->R == 2 ? vmode2_##NAME(a, a->j0, j1) : vmode4_##NAME(a, a->j0, j1);                     \
        if (rest.j0 >= a->j1) return rest.j0;                                                                \
        return fmode_##NAME(&rest);                                                                          \
    }

/* Min and max, pairwise so the loops vectorise; a NaN operand wins (numpy). */
#define PMIN(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))
#define PMAX(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define DEFINE_FAST_EXT(NAME, T, KIND, P)                                                                    \
    CLONES static int64_t f##KIND##_##NAME(const ozf_row_args *a) {                                          \
        FAST_PROLOGUE(T)                                                                                     \
        switch (a->R) {                                                                                      \
        case 1:                                                                                              \
            for (int64_t j = j0; j < j1; j++) o[j] = P(p0[2 * j], p0[2 * j + 1]);                            \
            break;                                                                                           \
        case 2:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                T x = P(p0[2 * j], p0[2 * j + 1]), y = P(p1[2 * j], p1[2 * j + 1]);                          \
                o[j] = P(x, y);                                                                              \
            }                                                                                                \
            break;                                                                                           \
        case 4:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                T x = P(p0[2 * j], p0[2 * j + 1]), y = P(p1[2 * j], p1[2 * j + 1]);                          \
                T z = P(p2[2 * j], p2[2 * j + 1]), w = P(p3[2 * j], p3[2 * j + 1]);                          \
                x = P(x, y);                                                                                 \
                z = P(z, w);                                                                                 \
                o[j] = P(x, z);                                                                              \
            }                                                                                                \
            break;                                                                                           \
        default: return a->j0;                                                                               \
        }                                                                                                    \
        return j1;                                                                                           \
    }
#define DEFINE_FAST_MINMAX(NAME, T) DEFINE_FAST_EXT(NAME, T, min, PMIN) DEFINE_FAST_EXT(NAME, T, max, PMAX)
DEFINE_FAST_MINMAX(u8, uint8_t)
DEFINE_FAST_MINMAX(u16, uint16_t)
DEFINE_FAST_MINMAX(u32, uint32_t)
DEFINE_FAST_MINMAX(u64, uint64_t)
DEFINE_FAST_MINMAX(i8, int8_t)
DEFINE_FAST_MINMAX(i16, int16_t)
DEFINE_FAST_MINMAX(i32, int32_t)
DEFINE_FAST_MINMAX(i64, int64_t)
DEFINE_FAST_MINMAX(f32, float)
DEFINE_FAST_MINMAX(f64, double)

#define EXT_CASES(KIND)                                                                                      \
    switch (dtype) {                                                                                         \
    case OZF_DT_U8: return f##KIND##_u8(a);                                                                  \
    case OZF_DT_U16: return f##KIND##_u16(a);                                                                \
    case OZF_DT_U32: return f##KIND##_u32(a);                                                                \
    case OZF_DT_U64: return f##KIND##_u64(a);                                                                \
    case OZF_DT_I8: return f##KIND##_i8(a);                                                                  \
    case OZF_DT_I16: return f##KIND##_i16(a);                                                                \
    case OZF_DT_I32: return f##KIND##_i32(a);                                                                \
    case OZF_DT_I64: return f##KIND##_i64(a);                                                                \
    case OZF_DT_F32: return f##KIND##_f32(a);                                                                \
    case OZF_DT_F64: return f##KIND##_f64(a);                                                                \
    default: return a->j0;                                                                                   \
    }

/* Median of 2, 4 or 8 samples with sorting networks (19 comparators for 8).
 * Integers take the lower middle; floats the mean of the middles in double,
 * NaN if any sample is NaN (so the network only sees ordered values). */
#define CSWAP(T, x, y)                                                                                       \
    {                                                                                                        \
        T lo_ = (y) < (x) ? (y) : (x);                                                                       \
        T hi_ = (y) < (x) ? (x) : (y);                                                                       \
        x = lo_;                                                                                             \
        y = hi_;                                                                                             \
    }
#define DEFINE_FAST_MEDIAN(NAME, T, ISFLT)                                                                   \
    static inline T mid_##NAME(T lo, T hi) { return ISFLT ? (T)(((double)lo + (double)hi) / 2.0) : lo; }     \
    CLONES static int64_t fmedian_##NAME(const ozf_row_args *a) {                                            \
        FAST_PROLOGUE(T)                                                                                     \
        switch (a->R) {                                                                                      \
        case 1:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                T x = p0[2 * j], y = p0[2 * j + 1];                                                          \
                if (ISFLT && (x != x || y != y)) {                                                           \
                    o[j] = x != x ? x : y;                                                                   \
                    continue;                                                                                \
                }                                                                                            \
                CSWAP(T, x, y);                                                                              \
                o[j] = mid_##NAME(x, y);                                                                     \
            }                                                                                                \
            break;                                                                                           \
        case 2:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                T v[4] = {p0[2 * j], p0[2 * j + 1], p1[2 * j], p1[2 * j + 1]};                               \
                if (ISFLT) {                                                                                 \
                    int nan = 0;                                                                             \
                    for (int i = 0; i < 4; i++) nan |= v[i] != v[i];                                         \
                    if (nan) {                                                                               \
                        o[j] = (T)NAN;                                                                       \
                        continue;                                                                            \
                    }                                                                                        \
                }                                                                                            \
                CSWAP(T, v[0], v[1]);                                                                        \
                CSWAP(T, v[2], v[3]);                                                                        \
                CSWAP(T, v[0], v[2]);                                                                        \
                CSWAP(T, v[1], v[3]);                                                                        \
                CSWAP(T, v[1], v[2]);                                                                        \
                o[j] = mid_##NAME(v[1], v[2]);                                                               \
            }                                                                                                \
            break;                                                                                           \
        case 4:                                                                                              \
            for (int64_t j = j0; j < j1; j++) {                                                              \
                T v[8] = {p0[2 * j], p0[2 * j + 1], p1[2 * j], p1[2 * j + 1],                                \
                          p2[2 * j], p2[2 * j + 1], p3[2 * j], p3[2 * j + 1]};                               \
                if (ISFLT) {                                                                                 \
                    int nan = 0;                                                                             \
                    for (int i = 0; i < 8; i++) nan |= v[i] != v[i];                                         \
                    if (nan) {                                                                               \
                        o[j] = (T)NAN;                                                                       \
                        continue;                                                                            \
                    }                                                                                        \
                }                                                                                            \
                CSWAP(T, v[0], v[2]);                                                                        \
                CSWAP(T, v[1], v[3]);                                                                        \
                CSWAP(T, v[4], v[6]);                                                                        \
                CSWAP(T, v[5], v[7]);                                                                        \
                CSWAP(T, v[0], v[4]);                                                                        \
                CSWAP(T, v[1], v[5]);                                                                        \
                CSWAP(T, v[2], v[6]);                                                                        \
                CSWAP(T, v[3], v[7]);                                                                        \
                CSWAP(T, v[0], v[1]);                                                                        \
                CSWAP(T, v[2], v[3]);                                                                        \
                CSWAP(T, v[4], v[5]);                                                                        \
                CSWAP(T, v[6], v[7]);                                                                        \
                CSWAP(T, v[2], v[4]);                                                                        \
                CSWAP(T, v[3], v[5]);                                                                        \
                CSWAP(T, v[1], v[4]);                                                                        \
                CSWAP(T, v[3], v[6]);                                                                        \
                CSWAP(T, v[1], v[2]);                                                                        \
                CSWAP(T, v[3], v[4]);                                                                        \
                CSWAP(T, v[5], v[6]);                                                                        \
                o[j] = mid_##NAME(v[3], v[4]);                                                               \
            }                                                                                                \
            break;                                                                                           \
        default: return a->j0;                                                                               \
        }                                                                                                    \
        return j1;                                                                                           \
    }
DEFINE_FAST_MEDIAN(u8, uint8_t, 0)
DEFINE_FAST_MEDIAN(u16, uint16_t, 0)
DEFINE_FAST_MEDIAN(u32, uint32_t, 0)
DEFINE_FAST_MEDIAN(u64, uint64_t, 0)
DEFINE_FAST_MEDIAN(i8, int8_t, 0)
DEFINE_FAST_MEDIAN(i16, int16_t, 0)
DEFINE_FAST_MEDIAN(i32, int32_t, 0)
DEFINE_FAST_MEDIAN(i64, int64_t, 0)
DEFINE_FAST_MEDIAN(f32, float, 1)
DEFINE_FAST_MEDIAN(f64, double, 1)

DEFINE_FAST_MEAN_INT(u8, uint8_t, uint16_t)
DEFINE_FAST_MEAN_INT(u16, uint16_t, uint32_t)
DEFINE_FAST_MEAN_INT(u32, uint32_t, uint64_t)
DEFINE_FAST_MEAN_INT(i8, int8_t, int16_t)
DEFINE_FAST_MEAN_INT(i16, int16_t, int32_t)
DEFINE_FAST_MEAN_INT(i32, int32_t, int64_t)
DEFINE_FAST_MEAN_FLT(f32, float)
DEFINE_FAST_MEAN_FLT(f64, double)

DEFINE_FAST_MODE(u8, uint8_t)
DEFINE_FAST_MODE(u16, uint16_t)
DEFINE_FAST_MODE(u32, uint32_t)
DEFINE_FAST_MODE(u64, uint64_t)
DEFINE_FAST_MODE(i8, int8_t)
DEFINE_FAST_MODE(i16, int16_t)
DEFINE_FAST_MODE(i32, int32_t)
DEFINE_FAST_MODE(i64, int64_t)

VEC_THEN_SCALAR(u32)
VEC_THEN_SCALAR(i32)
VEC_THEN_SCALAR(u64)
VEC_THEN_SCALAR(i64)

int64_t ozf_ds_fast_row(int dtype, int method, const ozf_row_args *a) {
    if (method == OZF_DS_MEAN) {
        switch (dtype) {
        case OZF_DT_U8: return fmean_u8(a);
        case OZF_DT_U16: return fmean_u16(a);
        case OZF_DT_U32: return fmean_u32(a);
        case OZF_DT_I8: return fmean_i8(a);
        case OZF_DT_I16: return fmean_i16(a);
        case OZF_DT_I32: return fmean_i32(a);
        case OZF_DT_F32: return fmean_f32(a);
        case OZF_DT_F64: return fmean_f64(a);
        default: return a->j0; /* 64-bit integers need 128-bit sums: generic */
        }
    }
    if (method == OZF_DS_MODE) {
        switch (dtype) {
        case OZF_DT_U8: return fmode_u8(a);
        case OZF_DT_U16: return fmode_u16(a);
        case OZF_DT_U32: return fmode_v_u32(a);
        case OZF_DT_U64: return fmode_v_u64(a);
        case OZF_DT_I8: return fmode_i8(a);
        case OZF_DT_I16: return fmode_i16(a);
        case OZF_DT_I32: return fmode_v_i32(a);
        case OZF_DT_I64: return fmode_v_i64(a);
        default: return a->j0;
        }
    }
    if (method == OZF_DS_MEDIAN) EXT_CASES(median)
    if (method == OZF_DS_MIN) EXT_CASES(min)
    if (method == OZF_DS_MAX) EXT_CASES(max)
    return a->j0;
}
