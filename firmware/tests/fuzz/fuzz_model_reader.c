/*
 * libFuzzer target over the portable engine's model reader: every input is a candidate
 * .tflite. A model that loads is loaded again into a heap arena of exactly arena_used bytes
 * and invoked there, so AddressSanitizer sees any read or write outside the model or the
 * planned arena. A load into a too-small arena must fail cleanly with ARENA_TOO_SMALL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hil/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ARENA_BYTES (64u * 1024u)

static _Alignas(16) uint8_t probe_arena[FUZZ_ARENA_BYTES];

static void check(int condition)
{
    if (!condition) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy: reading one byte past the model is an ASan report. */
    uint8_t *model = malloc(size ? size : 1);
    check(model != NULL);
    if (size) {
        memcpy(model, data, size);
    }
    hil_engine_t engine;
    hil_status st = hil_engine_load(model, size, probe_arena, sizeof probe_arena, &engine);
    check(st == engine.error.status);
    check((unsigned)st < (unsigned)HIL_ERR_COUNT_);
    if (st == HIL_OK) {
        const uint32_t used = hil_engine_arena_used(&engine);
        check(used > 0 && used <= sizeof probe_arena);
        /* malloc aligns to 16 on the fuzzing hosts, so `used` bytes are enough there. */
        uint8_t *arena = malloc(used);
        check(arena != NULL);
        st = hil_engine_load(model, size, arena, used, &engine);
        check(st == HIL_OK);
        for (int i = 0; i < hil_engine_input_count(&engine); ++i) {
            hil_tensor_info_t info;
            check(hil_engine_input_info(&engine, i, &info) == HIL_OK);
            uint8_t *in = hil_engine_input_data(&engine, i);
            for (uint32_t b = 0; b < info.bytes; ++b) {
                in[b] = (uint8_t)(size ? data[b % size] ^ (uint8_t)b : b);
            }
        }
        check(hil_engine_invoke(&engine) == HIL_OK);
        for (int i = 0; i < hil_engine_output_count(&engine); ++i) {
            hil_tensor_info_t info;
            check(hil_engine_output_info(&engine, i, &info) == HIL_OK);
            volatile uint8_t sink = 0;
            const uint8_t *out = hil_engine_output_data(&engine, i);
            for (uint32_t b = 0; b < info.bytes; ++b) {
                sink ^= out[b];
            }
            (void)sink;
        }
        if (used > 16) {
            hil_engine_t small;
            st = hil_engine_load(model, size, arena, used - 16, &small);
            check(st == HIL_ERR_ARENA_TOO_SMALL);
        }
        free(arena);
    }
    free(model);
    return 0;
}
