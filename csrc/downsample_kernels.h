/* Row kernels behind downsample.c (internal to the downsampling files).
 *
 * A row kernel produces outputs [j0, j1) of one output row along the last
 * axis.  Its block is R input rows (the samples of the leading axes, already
 * clipped at edges) times `fl` samples along the last axis (clipped at n_in).
 *
 * Generic kernels take any byte strides, factor and R.  Fast kernels
 * (downsample_fast.c) need a contiguous last axis on both sides, fl == 2 and
 * R in {1, 2, 4} (the 2, 2x2 and 2x2x2 blocks).  They write the full blocks
 * from j0 on and return the first j they did not write (j0 if they do not
 * handle this dtype/method/R), leaving the rest to the generic kernel.
 */
#ifndef OZF_DOWNSAMPLE_KERNELS_H
#define OZF_DOWNSAMPLE_KERNELS_H

#include <stdint.h>

typedef struct {
    const char *const *rows; /* R pointers to the first sample of each input row */
    int64_t R;
    int64_t n_in; /* samples along the last axis */
    int64_t fl;   /* factor along the last axis */
    int64_t is;   /* input byte stride along the last axis */
    char *out;    /* output element 0 of this row */
    int64_t os;   /* output byte stride along the last axis */
    int64_t j0, j1;
    void *scratch; /* R * fl elements, for mode and median */
} ozf_row_args;

typedef void (*ozf_row_fn)(const ozf_row_args *a);

/* Generic kernel for (dtype, method); NULL if unsupported. */
ozf_row_fn ozf_ds_generic_kernel(int dtype, int method);

/* Fast 2/2x2/2x2x2 kernel; see above.  Returns outputs written. */
int64_t ozf_ds_fast_row(int dtype, int method, const ozf_row_args *a);

#endif
