/* libFuzzer entry for the targets in fuzz_targets.c: the target is named by
 * the environment variable OZF_FUZZ_TARGET (see scripts/sanitize.sh). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_targets.h"

static const ozf_fuzz_target *target;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *name = getenv("OZF_FUZZ_TARGET");
    target = name ? ozf_fuzz_find(name) : NULL;
    if (!target) {
        fprintf(stderr, "set OZF_FUZZ_TARGET to one of:");
        for (size_t i = 0; i < ozf_fuzz_ntargets; i++) fprintf(stderr, " %s", ozf_fuzz_targets[i].name);
        fprintf(stderr, "\n");
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len) {
    target->fn(data, len);
    return 0;
}
