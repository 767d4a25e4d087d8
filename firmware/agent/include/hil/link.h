/*
 * Link protocol v1 codec: COBS, CRC-32 and frames (docs/protocol.md).
 *
 * Pure C11, no hardware: the same sources build for the device and, as libhilcodec.so, for the
 * host tests that check them against tests/vectors/frames.json.
 */
#ifndef HIL_LINK_H
#define HIL_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil/protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest COBS encoding of raw_len bytes, delimiter excluded: n + 1 + n/254. */
#define HIL_COBS_MAX_ENCODED(raw_len) ((raw_len) + 1u + (raw_len) / 254u)
/* Largest encoded frame (delimiter excluded) a receiver with max_payload accepts. */
#define HIL_FRAME_MAX_WIRE(max_payload) HIL_COBS_MAX_ENCODED(HIL_FRAME_OVERHEAD + (max_payload))

/* ---- CRC-32/IEEE (zlib's crc32) ---- */
#define HIL_CRC32_INIT 0xFFFFFFFFu
/* Running form: crc = hil_crc32_update(HIL_CRC32_INIT, ...); ... ; result = crc ^ 0xFFFFFFFF. */
uint32_t hil_crc32_update(uint32_t crc, const uint8_t *data, size_t len);
uint32_t hil_crc32(const uint8_t *data, size_t len);

/* ---- COBS ---- */
/* Where encoded bytes go: called with blocks of at most 255 bytes. */
typedef void (*hil_sink_fn)(void *context, const uint8_t *data, size_t len);

/* Streaming encoder: holds one block (up to 254 data bytes) so a frame never needs a whole
 * encoded copy in RAM. */
typedef struct {
    hil_sink_fn sink;
    void *context;
    uint8_t block[255]; /* block[0] is the code byte */
    uint8_t fill;       /* data bytes in block[1..] */
} hil_cobs_encoder_t;

void hil_cobs_encoder_init(hil_cobs_encoder_t *enc, hil_sink_fn sink, void *context);
void hil_cobs_encoder_put(hil_cobs_encoder_t *enc, const uint8_t *data, size_t len);
/* Flushes the last block. Does not write the 0x00 delimiter. */
void hil_cobs_encoder_finish(hil_cobs_encoder_t *enc);

/* Buffer forms. Return the output length, or -1 when out_cap is too small (encode) or the
 * input is not valid COBS (decode). Decoding may run in place (out == encoded). */
long hil_cobs_encode(const uint8_t *raw, size_t raw_len, uint8_t *out, size_t out_cap);
long hil_cobs_decode(const uint8_t *encoded, size_t encoded_len, uint8_t *out, size_t out_cap);

/* ---- frames ---- */
typedef struct {
    const uint8_t *payload; /* points into the decoder's buffer; valid until it is fed again */
    uint16_t seq;
    uint16_t length;
    uint8_t type;
} hil_frame_t;

/* Writes one whole frame (COBS, delimiter included) to sink: header, payload and CRC are
 * streamed, so payload may live anywhere (e.g. inside the receive buffer for ECHO). */
void hil_frame_write(hil_sink_fn sink, void *context, uint8_t type, uint16_t seq,
                     const uint8_t *payload, size_t len);
/* Buffer form; returns the wire length (delimiter included) or -1 if out_cap is too small
 * or len exceeds 0xFFFF. */
long hil_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len,
                      uint8_t *out, size_t out_cap);

/* Decodes the bytes between two delimiters IN PLACE, applying the checks of docs/protocol.md
 * in their order. Returns 0 and fills frame (payload points into buf), or the hil_error_code. */
int hil_frame_decode(uint8_t *buf, size_t encoded_len, size_t max_payload, hil_frame_t *frame);

/* Streaming receiver: fed one byte at a time, never buffers more than the limit; an over-long
 * frame is dropped as it arrives and reported once, as OVERSIZE, at its delimiter. */
typedef enum {
    HIL_RX_PENDING = 0, /* need more bytes */
    HIL_RX_FRAME = 1,   /* *frame holds a valid frame */
    HIL_RX_ERROR = 2,   /* *error holds the hil_error_code of a rejected frame */
} hil_rx_status_t;

typedef struct {
    uint8_t *buf;
    size_t limit;       /* HIL_FRAME_MAX_WIRE(max_payload); buf holds at least this */
    size_t max_payload;
    size_t fill;
    bool overflowed;
} hil_frame_reader_t;

/* buf_size must be >= HIL_FRAME_MAX_WIRE(max_payload); returns false otherwise. */
bool hil_frame_reader_init(hil_frame_reader_t *reader, uint8_t *buf, size_t buf_size,
                           size_t max_payload);
hil_rx_status_t hil_frame_reader_push(hil_frame_reader_t *reader, uint8_t byte,
                                      hil_frame_t *frame, int *error);

#ifdef __cplusplus
}
#endif

#endif /* HIL_LINK_H */
