/* Force-included (-include) by scripts/sanitize.sh when it builds csrc/ with
 * clang, for libFuzzer.  csrc/downsample_fast.c uses GCC's __builtin_shuffle,
 * which clang lacks (it has __builtin_shufflevector, with constant indices
 * only); this is the same shuffle, lane by lane: slower, the same result. */
#if defined(__clang__) && !defined(OZF_CLANG_COMPAT_H)
#define OZF_CLANG_COMPAT_H
#define __builtin_shuffle(a, b, ...) __extension__({                                   \
    __typeof__(a) ozf_sa_ = (a), ozf_sb_ = (b), ozf_sr_;                                \
    __typeof__(__VA_ARGS__) ozf_sm_ = (__VA_ARGS__);                                    \
    const long ozf_sn_ = (long)(sizeof ozf_sa_ / sizeof ozf_sa_[0]);                    \
    for (long ozf_k_ = 0; ozf_k_ < ozf_sn_; ozf_k_++) {                                 \
        long ozf_i_ = (long)ozf_sm_[ozf_k_] & (2 * ozf_sn_ - 1);                        \
        ozf_sr_[ozf_k_] = ozf_i_ < ozf_sn_ ? ozf_sa_[ozf_i_] : ozf_sb_[ozf_i_ - ozf_sn_]; \
    }                                                                                   \
    ozf_sr_;                                                                            \
})
#endif
