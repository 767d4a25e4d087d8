/* Link protocol v1 frames (docs/protocol.md): header(8) payload crc32(4), COBS, 0x00. */
#include "hil/link.h"

#include "hil/le.h"
#include "memsink.h"

void hil_frame_write(hil_sink_fn sink, void *context, uint8_t type, uint16_t seq,
                     const uint8_t *payload, size_t len)
{
    const uint16_t length = (uint16_t)len;
    const uint8_t header[HIL_FRAME_HEADER_SIZE] = {
        (uint8_t)HIL_PROTOCOL_VERSION, type,
        (uint8_t)(seq & 0xFFu), (uint8_t)(seq >> 8),
        (uint8_t)(length & 0xFFu), (uint8_t)(length >> 8),
        0u, 0u, /* reserved */
    };
    uint32_t crc = hil_crc32_update(HIL_CRC32_INIT, header, sizeof header);
    crc = hil_crc32_update(crc, payload, len) ^ 0xFFFFFFFFu;
    const uint8_t trailer[HIL_FRAME_CRC_SIZE] = {
        (uint8_t)(crc & 0xFFu), (uint8_t)((crc >> 8) & 0xFFu),
        (uint8_t)((crc >> 16) & 0xFFu), (uint8_t)(crc >> 24),
    };
    static const uint8_t delimiter = 0u;

    hil_cobs_encoder_t enc;
    hil_cobs_encoder_init(&enc, sink, context);
    hil_cobs_encoder_put(&enc, header, sizeof header);
    hil_cobs_encoder_put(&enc, payload, len);
    hil_cobs_encoder_put(&enc, trailer, sizeof trailer);
    hil_cobs_encoder_finish(&enc);
    sink(context, &delimiter, 1u);
}

long hil_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len,
                      uint8_t *out, size_t out_cap)
{
    if (len > 0xFFFFu) {
        return -1;
    }
    hil_memsink_t mem = {.out = out, .cap = out_cap, .len = 0, .overflow = false};
    hil_frame_write(hil_memsink_write, &mem, type, seq, payload, len);
    return mem.overflow ? -1 : (long)mem.len;
}

int hil_frame_decode(uint8_t *buf, size_t encoded_len, size_t max_payload, hil_frame_t *frame)
{
    if (encoded_len > HIL_FRAME_MAX_WIRE(max_payload)) {
        return HIL_LINK_ERR_OVERSIZE;
    }
    const long decoded = hil_cobs_decode(buf, encoded_len, buf, encoded_len);
    if (decoded < 0) {
        return HIL_LINK_ERR_BAD_COBS;
    }
    const size_t raw_len = (size_t)decoded;
    if (raw_len < HIL_FRAME_OVERHEAD) {
        return HIL_LINK_ERR_TRUNCATED;
    }
    if (raw_len > HIL_FRAME_OVERHEAD + max_payload) {
        return HIL_LINK_ERR_OVERSIZE;
    }
    const size_t body_len = raw_len - HIL_FRAME_CRC_SIZE;
    if (hil_le_get_u32(buf + body_len) != hil_crc32(buf, body_len)) {
        return HIL_LINK_ERR_BAD_CRC;
    }
    if (buf[0] != HIL_PROTOCOL_VERSION) {
        return HIL_LINK_ERR_BAD_VERSION;
    }
    const uint16_t length = hil_le_get_u16(buf + 4);
    if (length != body_len - HIL_FRAME_HEADER_SIZE) {
        return HIL_LINK_ERR_BAD_LENGTH;
    }
    frame->type = buf[1];
    frame->seq = hil_le_get_u16(buf + 2);
    frame->length = length;
    frame->payload = buf + HIL_FRAME_HEADER_SIZE;
    return 0;
}

bool hil_frame_reader_init(hil_frame_reader_t *reader, uint8_t *buf, size_t buf_size,
                           size_t max_payload)
{
    if (buf == NULL || max_payload > 0xFFFFu || buf_size < HIL_FRAME_MAX_WIRE(max_payload)) {
        return false;
    }
    reader->buf = buf;
    reader->limit = HIL_FRAME_MAX_WIRE(max_payload);
    reader->max_payload = max_payload;
    reader->fill = 0;
    reader->overflowed = false;
    return true;
}

hil_rx_status_t hil_frame_reader_push(hil_frame_reader_t *reader, uint8_t byte,
                                      hil_frame_t *frame, int *error)
{
    if (byte != 0u) {
        if (reader->overflowed) {
            return HIL_RX_PENDING; /* drop the rest of an over-long frame as it arrives */
        }
        if (reader->fill >= reader->limit) {
            reader->overflowed = true;
            reader->fill = 0;
            return HIL_RX_PENDING;
        }
        reader->buf[reader->fill++] = byte;
        return HIL_RX_PENDING;
    }

    const size_t fill = reader->fill;
    const bool overflowed = reader->overflowed;
    reader->fill = 0;
    reader->overflowed = false;
    if (overflowed) {
        *error = HIL_LINK_ERR_OVERSIZE;
        return HIL_RX_ERROR;
    }
    if (fill == 0u) {
        return HIL_RX_PENDING; /* empty frame: two delimiters in a row, or a host flush */
    }
    const int rc = hil_frame_decode(reader->buf, fill, reader->max_payload, frame);
    if (rc != 0) {
        *error = rc;
        return HIL_RX_ERROR;
    }
    return HIL_RX_FRAME;
}
