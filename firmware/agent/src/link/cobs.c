/* Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999), as harness/link/cobs.py. */
#include "hil/link.h"

#include "memsink.h"

void hil_cobs_encoder_init(hil_cobs_encoder_t *enc, hil_sink_fn sink, void *context)
{
    enc->sink = sink;
    enc->context = context;
    enc->fill = 0;
}

static void emit_block(hil_cobs_encoder_t *enc)
{
    enc->block[0] = (uint8_t)(enc->fill + 1u);
    enc->sink(enc->context, enc->block, (size_t)enc->fill + 1u);
    enc->fill = 0;
}

void hil_cobs_encoder_put(hil_cobs_encoder_t *enc, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        const uint8_t byte = data[i];
        if (byte == 0u) {
            emit_block(enc);
            continue;
        }
        enc->fill++;
        enc->block[enc->fill] = byte;
        if (enc->fill == 254u) {
            emit_block(enc); /* code 0xFF: a full block, no implied zero */
        }
    }
}

void hil_cobs_encoder_finish(hil_cobs_encoder_t *enc)
{
    emit_block(enc);
}

long hil_cobs_encode(const uint8_t *raw, size_t raw_len, uint8_t *out, size_t out_cap)
{
    hil_memsink_t mem = {.out = out, .cap = out_cap, .len = 0, .overflow = false};
    hil_cobs_encoder_t enc;
    hil_cobs_encoder_init(&enc, hil_memsink_write, &mem);
    hil_cobs_encoder_put(&enc, raw, raw_len);
    hil_cobs_encoder_finish(&enc);
    return mem.overflow ? -1 : (long)mem.len;
}

/* In place is safe: the write index never passes the read index (each code byte is dropped). */
long hil_cobs_decode(const uint8_t *encoded, size_t encoded_len, uint8_t *out, size_t out_cap)
{
    if (encoded_len == 0u) {
        return -1;
    }
    size_t in = 0;
    size_t produced = 0;
    while (in < encoded_len) {
        const uint8_t code = encoded[in];
        if (code == 0u) {
            return -1;
        }
        const size_t end = in + code;
        if (end > encoded_len) {
            return -1; /* the code byte runs past the end */
        }
        const size_t run = (size_t)code - 1u;
        if (produced + run > out_cap) {
            return -1;
        }
        in++;
        for (size_t k = 0; k < run; k++) {
            const uint8_t byte = encoded[in + k];
            if (byte == 0u) {
                return -1;
            }
            out[produced + k] = byte;
        }
        produced += run;
        in = end;
        if (code != 0xFFu && in < encoded_len) {
            if (produced >= out_cap) {
                return -1;
            }
            out[produced++] = 0u;
        }
    }
    return (long)produced;
}
