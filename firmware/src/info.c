/* INFO / BOOT TLV list and the build id. */
#include "hil/info.h"

#include <string.h>

#include "hil/board.h"
#include "hil/config.h"
#include "hil/protocol.h"
#include "hil_build_id.h" /* generated in BUILD_DIR/gen: #define HIL_BUILD_ID "..." */

typedef struct {
    uint8_t *out;
    size_t cap;
    size_t len;
    int failed;
} tlv_writer_t;

static void tlv_put(tlv_writer_t *w, uint8_t tag, const void *value, size_t len)
{
    if (w->failed || len > 255u || 2u + len > w->cap - w->len) {
        w->failed = 1;
        return;
    }
    w->out[w->len] = tag;
    w->out[w->len + 1u] = (uint8_t)len;
    memcpy(&w->out[w->len + 2u], value, len);
    w->len += 2u + len;
}

static void tlv_put_str(tlv_writer_t *w, uint8_t tag, const char *text)
{
    tlv_put(w, tag, text, strlen(text));
}

static void tlv_put_u16(tlv_writer_t *w, uint8_t tag, uint32_t value)
{
    const uint8_t le[2] = {(uint8_t)(value & 0xFFu), (uint8_t)((value >> 8) & 0xFFu)};
    tlv_put(w, tag, le, sizeof le);
}

const char *hil_build_id(void)
{
    return HIL_BUILD_ID;
}

size_t hil_info_tlv(uint8_t *out, size_t out_cap, const char *reset_cause)
{
    tlv_writer_t w = {.out = out, .cap = out_cap, .len = 0, .failed = 0};
    const uint8_t protocol_version = HIL_PROTOCOL_VERSION;
    tlv_put(&w, HIL_TAG_PROTOCOL_VERSION, &protocol_version, 1u);
    tlv_put_str(&w, HIL_TAG_FIRMWARE_VERSION, HIL_FIRMWARE_VERSION);
    tlv_put_str(&w, HIL_TAG_BOARD, HIL_BOARD_NAME);
    tlv_put_str(&w, HIL_TAG_BUILD_ID, HIL_BUILD_ID);
    tlv_put_str(&w, HIL_TAG_ENGINE, HIL_ENGINE_NAME);
    tlv_put_u16(&w, HIL_TAG_MAX_PAYLOAD, HIL_MAX_PAYLOAD);
    tlv_put_str(&w, HIL_TAG_CPU, HIL_BOARD_CPU);
    tlv_put_str(&w, HIL_TAG_COST_UNIT, HIL_BOARD_COST_UNIT);
    tlv_put_u16(&w, HIL_TAG_RX_BUFFER, HIL_RX_RING_SIZE);
    tlv_put_str(&w, HIL_TAG_RESET_CAUSE, reset_cause);
    return w.failed ? 0u : w.len;
}
