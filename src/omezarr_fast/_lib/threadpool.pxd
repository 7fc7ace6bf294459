# Declarations for csrc/threadpool.h.
cdef extern from "threadpool.h" nogil:
    ctypedef void (*ozf_task_fn)(void *ctx, size_t i) noexcept nogil
    void ozf_pool_set_threads(int n)
    int ozf_pool_get_threads()
    int ozf_parallel_for(size_t n, ozf_task_fn fn, void *ctx)
