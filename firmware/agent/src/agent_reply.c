/* The agent's replies: error texts, frames to the port's write, ERROR and FAULT (docs/protocol.md). */
#include "hil_agent/agent.h"

#include <string.h>

#include "agent_internal.h"
#include "hil/le.h"

/* ---- error texts ------------------------------------------------------------------------------ */

void hil_agent_error_init(hil_agent_error_t *error)
{
    error->code = HIL_LINK_ERR_INTERNAL;
    error->detail = 0u;
    error->len = 0u;
    error->text[0] = '\0';
}

void hil_agent_error_set(hil_agent_error_t *error, int code, uint32_t detail)
{
    error->code = code;
    error->detail = detail;
}

void hil_agent_error_text(hil_agent_error_t *error, const char *text)
{
    while (*text != '\0' && error->len < HIL_AGENT_TEXT_MAX) {
        error->text[error->len++] = *text++;
    }
    error->text[error->len] = '\0';
}

void hil_agent_error_int(hil_agent_error_t *error, int64_t value)
{
    char digits[24];
    size_t n = 0;
    uint64_t magnitude = value < 0 ? (uint64_t)(-(value + 1)) + 1u : (uint64_t)value;
    do {
        digits[n++] = (char)('0' + (char)(magnitude % 10u));
        magnitude /= 10u;
    } while (magnitude != 0u && n < sizeof digits);
    if (value < 0) {
        hil_agent_error_text(error, "-");
    }
    while (n > 0u) {
        const char one[2] = {digits[--n], '\0'};
        hil_agent_error_text(error, one);
    }
}

/* ---- replies ------------------------------------------------------------------------------------ */

static void link_sink(void *context, const uint8_t *data, size_t len)
{
    (void)context;
    hil_agent_port_->write(data, len);
}

void hil_agent_reply(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len)
{
    if (hil_agent_port_ == NULL) {
        return; /* before init there is no link to answer on */
    }
    hil_frame_write(link_sink, NULL, type, seq, payload, len);
}

void hil_agent_reply_error(uint16_t seq, uint8_t request_type, int code, uint32_t detail, const char *text)
{
    uint8_t payload[HIL_ERROR_HEADER_SIZE + HIL_AGENT_TEXT_MAX];
    size_t text_len = (text != NULL) ? strlen(text) : 0u;
    if (text_len > HIL_AGENT_TEXT_MAX) {
        text_len = HIL_AGENT_TEXT_MAX;
    }
    hil_le_put_u16(payload, (uint32_t)code);
    payload[2] = request_type;
    payload[3] = 0u; /* reserved */
    hil_le_put_u32(payload + 4, detail);
    if (text_len > 0u) {
        memcpy(payload + HIL_ERROR_HEADER_SIZE, text, text_len);
    }
    hil_agent_reply(HIL_MSG_ERROR, seq, payload, HIL_ERROR_HEADER_SIZE + text_len);
}

void hil_agent_reply_failure(const hil_frame_t *request, const hil_agent_error_t *error)
{
    hil_agent_reply_error(request->seq, request->type, error->code, error->detail, error->text);
}

void hil_agent_report_fault(const uint32_t words[HIL_FAULT_WORDS])
{
    if (hil_agent_port_ == NULL) {
        return;
    }
    uint8_t payload[4u * HIL_FAULT_WORDS];
    for (uint32_t i = 0; i < HIL_FAULT_WORDS; i++) {
        hil_le_put_u32(&payload[4u * i], words[i]);
    }
    static const uint8_t delimiter = 0u;
    hil_agent_port_->write(&delimiter, 1u); /* ends any half-sent frame so the host resynchronises */
    hil_frame_write(link_sink, NULL, HIL_MSG_FAULT, 0u, payload, sizeof payload);
}
