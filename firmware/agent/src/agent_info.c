/* INFO and BOOT: the fixed tags (built once at init), the model's, the port's, CAPABILITIES. */
#include "hil_agent/agent.h"

#include <string.h>

#include "agent_internal.h"
#include "hil/le.h"

#define INFO_FIXED_CAPACITY 192u
#define INFO_MODEL_CAPACITY 48u
#define INFO_PORT_CAPACITY 32u
#define INFO_CAPABILITIES_SIZE 6u

static struct {
    uint8_t fixed[INFO_FIXED_CAPACITY]; /* the tags that do not change at run time */
    size_t fixed_len;
    uint32_t capabilities;
} info;

/* ---- INFO / BOOT -------------------------------------------------------------------------------- */

typedef struct {
    uint8_t *out;
    size_t cap;
    size_t len;
    bool failed;
} tlv_writer_t;

static void tlv_put(tlv_writer_t *w, uint8_t tag, const void *value, size_t len)
{
    if (w->failed || len > 255u || 2u + len > w->cap - w->len) {
        w->failed = true;
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
    uint8_t le[2];
    hil_le_put_u16(le, value);
    tlv_put(w, tag, le, sizeof le);
}

static size_t info_fixed(const hil_agent_port_t *port, uint8_t *out, size_t cap)
{
    tlv_writer_t w = {.out = out, .cap = cap, .len = 0u, .failed = false};
    const uint8_t protocol_version = HIL_PROTOCOL_VERSION;
    tlv_put(&w, HIL_TAG_PROTOCOL_VERSION, &protocol_version, 1u);
    tlv_put_str(&w, HIL_TAG_FIRMWARE_VERSION, port->firmware_version);
    tlv_put_str(&w, HIL_TAG_BOARD, port->board);
    tlv_put_str(&w, HIL_TAG_BUILD_ID, port->build_id);
    tlv_put_str(&w, HIL_TAG_ENGINE, port->engine);
    tlv_put_u16(&w, HIL_TAG_MAX_PAYLOAD, HIL_MAX_PAYLOAD);
    tlv_put_str(&w, HIL_TAG_CPU, port->cpu);
    tlv_put_str(&w, HIL_TAG_COST_UNIT, port->cost_unit);
    tlv_put_u16(&w, HIL_TAG_RX_BUFFER, HIL_RX_RING_SIZE);
    tlv_put_str(&w, HIL_TAG_RESET_CAUSE, port->reset_cause);
    return w.failed ? 0u : w.len;
}

/* The fixed list, the model's tags, the port's, then CAPABILITIES (last: hosts that predate it
 * see every earlier byte as before). */
void hil_agent_reply_info(uint8_t type, uint16_t seq)
{
    uint8_t payload[INFO_FIXED_CAPACITY + INFO_MODEL_CAPACITY + INFO_PORT_CAPACITY + INFO_CAPABILITIES_SIZE];
    memcpy(payload, info.fixed, info.fixed_len);
    size_t len = info.fixed_len;
    len += hil_agent_infer_info(payload + len, INFO_MODEL_CAPACITY);
    if (hil_agent_port_->info_extension != NULL) {
        const size_t added = hil_agent_port_->info_extension(payload + len, INFO_PORT_CAPACITY);
        len += (added <= INFO_PORT_CAPACITY) ? added : 0u;
    }
    payload[len] = HIL_AGENT_TAG_CAPABILITIES;
    payload[len + 1u] = 4u;
    hil_le_put_u32(payload + len + 2u, info.capabilities);
    len += INFO_CAPABILITIES_SIZE;
    hil_agent_reply(type, seq, payload, len);
}

void hil_agent_boot(void)
{
    hil_agent_reply_info(HIL_MSG_BOOT, 0u);
}

bool hil_agent_info_init(const hil_agent_port_t *port)
{
    info.fixed_len = info_fixed(port, info.fixed, sizeof info.fixed);
    return info.fixed_len != 0u;
}

static uint32_t capabilities_of(const hil_agent_port_t *port)
{
    uint32_t caps = hil_agent_infer_capabilities() | port->extra_capabilities;
    if (port->reset != NULL) {
        caps |= HIL_AGENT_CAP_RESET;
    }
    if (port->fault_injection) {
        caps |= HIL_AGENT_CAP_FAULT_INJECTION;
    }
    return caps;
}

void hil_agent_info_set_capabilities(const hil_agent_port_t *port)
{
    info.capabilities = capabilities_of(port);
}
