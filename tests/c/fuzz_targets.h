/* Fuzz targets for the C core (csrc/), run under AddressSanitizer and
 * UndefinedBehaviorSanitizer by scripts/sanitize.sh, either by libFuzzer
 * (fuzz_libfuzzer.c) or by a deterministic random-input driver
 * (fuzz_random.c).
 *
 * Each target takes any bytes.  It turns them into hostile input for one part
 * of the core (most targets start from a valid encoding and corrupt it as the
 * first input byte says, so the fuzzer reaches past the headers), calls it
 * with buffers allocated to their exact size (so ASan sees any access past
 * them), and checks what the API promises beyond memory safety.  A broken
 * promise prints "OZF-FUZZ: <what>" and aborts, like a sanitizer report.
 */
#ifndef OZF_FUZZ_TARGETS_H
#define OZF_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

typedef void (*ozf_fuzz_fn)(const uint8_t *data, size_t len);

typedef struct {
    const char *name;
    ozf_fuzz_fn fn;
    const char *what;
} ozf_fuzz_target;

extern const ozf_fuzz_target ozf_fuzz_targets[];
extern const size_t ozf_fuzz_ntargets;

/* The target called name, or NULL. */
const ozf_fuzz_target *ozf_fuzz_find(const char *name);

#endif
