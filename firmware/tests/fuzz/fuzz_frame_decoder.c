/*
 * libFuzzer target over the link codec (firmware/agent/src/link): the streaming frame reader fed
 * byte by byte, the in-place frame decoder and COBS decode. Decoded frames must stay inside
 * their buffer and respect max_payload, and re-encoding a decoded frame must decode back to the
 * same frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hil/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PAYLOAD 256u

static void check(int condition)
{
    if (!condition) {
        __builtin_trap();
    }
}

static void roundtrip(const hil_frame_t *frame)
{
    const size_t cap = HIL_FRAME_MAX_WIRE(FUZZ_MAX_PAYLOAD) + 2u;
    uint8_t *wire = malloc(cap);
    check(wire != NULL);
    const long n = hil_frame_encode(frame->type, frame->seq, frame->payload, frame->length, wire, cap);
    check(n >= 2 && wire[n - 1] == 0);
    hil_frame_t again;
    check(hil_frame_decode(wire, (size_t)n - 1u, FUZZ_MAX_PAYLOAD, &again) == 0);
    check(again.type == frame->type && again.seq == frame->seq && again.length == frame->length);
    check(frame->length == 0 || memcmp(again.payload, frame->payload, frame->length) == 0);
    free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Streaming reader. */
    const size_t buf_size = HIL_FRAME_MAX_WIRE(FUZZ_MAX_PAYLOAD);
    uint8_t *buf = malloc(buf_size);
    check(buf != NULL);
    hil_frame_reader_t reader;
    check(hil_frame_reader_init(&reader, buf, buf_size, FUZZ_MAX_PAYLOAD));
    for (size_t i = 0; i < size; ++i) {
        hil_frame_t frame;
        int error = 0;
        const hil_rx_status_t st = hil_frame_reader_push(&reader, data[i], &frame, &error);
        if (st == HIL_RX_FRAME) {
            check(frame.length <= FUZZ_MAX_PAYLOAD);
            check(frame.length == 0 ||
                  (frame.payload >= buf && frame.payload + frame.length <= buf + buf_size));
            roundtrip(&frame);
        } else if (st == HIL_RX_ERROR) {
            check(error != 0);
        }
    }
    free(buf);

    /* Whole-buffer decoder on an exact-size copy (in place). */
    uint8_t *copy = malloc(size ? size : 1);
    check(copy != NULL);
    if (size) {
        memcpy(copy, data, size);
    }
    hil_frame_t frame;
    if (hil_frame_decode(copy, size, FUZZ_MAX_PAYLOAD, &frame) == 0) {
        check(frame.length <= FUZZ_MAX_PAYLOAD);
        check(frame.length == 0 || (frame.payload >= copy && frame.payload + frame.length <= copy + size));
        roundtrip(&frame);
    }
    free(copy);

    /* COBS decode into a buffer of exactly the input size. */
    uint8_t *out = malloc(size ? size : 1);
    check(out != NULL);
    const long n = hil_cobs_decode(data, size, out, size);
    check(n >= -1 && n <= (long)size);
    free(out);
    return 0;
}
