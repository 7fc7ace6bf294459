/* Deterministic random-input driver for the targets in fuzz_targets.c, for
 * compilers without libFuzzer:
 *
 *     fuzz_random TARGET SECONDS [SEED]   run TARGET on random inputs
 *     fuzz_random TARGET -replay FILE...  run TARGET on saved inputs
 *
 * Inputs are random bytes of random length (xorshift64*, seeded), so a run
 * with the same seed and count is the same run.  When a sanitizer reports or
 * a check aborts, the input is written to fuzz-crash-TARGET.bin. */
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_targets.h"

static uint64_t state;

static uint64_t next(void) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
}

static uint8_t buf[1 << 17];
static size_t cur_len;
static char crash_path[256];

/* Async-signal-safe: runs from a sanitizer's death callback or SIGABRT. */
static void save_input(void) {
    int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, buf, cur_len) < 0) { /* nothing more to do in a dying process */ }
        close(fd);
        static const char msg[] = "fuzz_random: input saved to ";
        if (write(2, msg, sizeof msg - 1) < 0 || write(2, crash_path, strlen(crash_path)) < 0 ||
            write(2, "\n", 1) < 0) { /* ignore */ }
    }
}

static void on_abort(int sig) {
    save_input();
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv) {
    const ozf_fuzz_target *t = argc > 2 ? ozf_fuzz_find(argv[1]) : NULL;
    if (!t) {
        fprintf(stderr, "usage: %s TARGET SECONDS [SEED] | TARGET -replay FILE...\ntargets:", argv[0]);
        for (size_t i = 0; i < ozf_fuzz_ntargets; i++) fprintf(stderr, " %s", ozf_fuzz_targets[i].name);
        fprintf(stderr, "\n");
        return 2;
    }
    if (!strcmp(argv[2], "-replay")) {
        for (int i = 3; i < argc; i++) {
            FILE *f = fopen(argv[i], "rb");
            if (!f) return 2;
            size_t n = fread(buf, 1, sizeof buf, f);
            fclose(f);
            t->fn(buf, n);
        }
        printf("%s: %d inputs replayed, no failure\n", t->name, argc - 3);
        return 0;
    }
    snprintf(crash_path, sizeof crash_path, "fuzz-crash-%s.bin", t->name);
    __sanitizer_set_death_callback(save_input);
    signal(SIGABRT, on_abort);
    signal(SIGSEGV, on_abort);
    double seconds = atof(argv[2]);
    state = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x9E3779B97F4A7C15ull;
    if (!state) state = 1;
    time_t end = time(NULL) + (time_t)seconds;
    unsigned long runs = 0;
    do {
        for (int k = 0; k < 64; k++, runs++) {
            /* Mostly short inputs: the targets build on valid encodings. */
            size_t n = next() % 8 == 0 ? next() % sizeof buf : next() % 512;
            for (size_t i = 0; i < n; i += 8) {
                uint64_t v = next();
                memcpy(buf + i, &v, n - i < 8 ? n - i : 8);
            }
            cur_len = n;
            t->fn(buf, n);
        }
    } while (time(NULL) < end);
    printf("%s: %lu random inputs, no failure\n", t->name, runs);
    return 0;
}
