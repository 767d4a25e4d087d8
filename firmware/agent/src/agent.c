/*
 * The agent's core: RX ring and frame reader, dispatch, INFO/BOOT, ERROR, FAULT, and the
 * built-in requests INFO, ECHO, RESET and the test-only CRASH and FAULT_ARM (docs/protocol.md).
 * The inference requests are in infer.c.
 */
#include "hil_agent/agent.h"

#include <string.h>

#include "agent_internal.h"
#include "hil/le.h"

#define INFO_FIXED_CAPACITY 192u
#define INFO_MODEL_CAPACITY 48u
#define INFO_PORT_CAPACITY 32u
#define INFO_CAPABILITIES_SIZE 6u

const hil_agent_port_t *hil_agent_port_;

static hil_ring_t rx_ring;
static uint8_t rx_storage[HIL_RX_RING_SIZE];
/* one encoded frame of maximal size; decoded in place, so ECHO replies straight from it */
static uint8_t frame_storage[HIL_FRAME_MAX_WIRE(HIL_MAX_PAYLOAD)];
static hil_frame_reader_t frame_reader;

typedef struct {
    uint8_t type;
    hil_agent_handler_fn handler;
} extra_handler_t;

static struct {
    uint8_t info[INFO_FIXED_CAPACITY]; /* the tags that do not change at run time */
    size_t info_len;
    uint32_t capabilities;
    extra_handler_t extra[HIL_AGENT_EXTRA_HANDLERS];
    size_t extra_count;
} agent;

/* FAULT_ARM (test-only): the fault fires on a later request. In .bss, so any reset disarms it. */
static struct {
    uint8_t mode;       /* HIL_FAULT_MODE_*, 0 = disarmed */
    uint16_t remaining; /* requests still served normally before the fault */
} fault_arm;

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
static void reply_info(uint8_t type, uint16_t seq)
{
    uint8_t payload[INFO_FIXED_CAPACITY + INFO_MODEL_CAPACITY + INFO_PORT_CAPACITY + INFO_CAPABILITIES_SIZE];
    memcpy(payload, agent.info, agent.info_len);
    size_t len = agent.info_len;
    len += hil_agent_infer_info(payload + len, INFO_MODEL_CAPACITY);
    if (hil_agent_port_->info_extension != NULL) {
        const size_t added = hil_agent_port_->info_extension(payload + len, INFO_PORT_CAPACITY);
        len += (added <= INFO_PORT_CAPACITY) ? added : 0u;
    }
    payload[len] = HIL_AGENT_TAG_CAPABILITIES;
    payload[len + 1u] = 4u;
    hil_le_put_u32(payload + len + 2u, agent.capabilities);
    len += INFO_CAPABILITIES_SIZE;
    hil_agent_reply(type, seq, payload, len);
}

void hil_agent_boot(void)
{
    reply_info(HIL_MSG_BOOT, 0u);
}

/* ---- built-in requests -------------------------------------------------------------------------- */

static bool require_empty(const hil_frame_t *request)
{
    if (request->length != 0u) {
        hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, request->length,
                              "request takes no payload");
        return false;
    }
    return true;
}

static void handle_reset(const hil_frame_t *request)
{
    hil_agent_reply(HIL_MSG_RESET | HIL_RESPONSE_BIT, request->seq, NULL, 0u);
    hil_agent_port_->reset(); /* drains the UART first: the reply must be on the wire */
}

static void handle_crash(const hil_frame_t *request)
{
    /* test-only: the fault handler sends FAULT and halts */
    hil_agent_undefined_instruction();
    hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_INTERNAL, 0u, "udf did not fault");
}

static void handle_fault_arm(const hil_frame_t *request)
{
    if (request->length != HIL_FAULT_ARM_SIZE) {
        hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, request->length,
                              "FAULT_ARM takes mode:u8 reserved:u8 after:u16");
        return;
    }
    const uint8_t mode = request->payload[0];
    if (mode != HIL_FAULT_MODE_HANG && mode != HIL_FAULT_MODE_CRASH && mode != 0u) {
        hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, mode,
                              "unknown fault mode (0 disarm, 1 hang, 2 crash)");
        return;
    }
    fault_arm.mode = mode;
    fault_arm.remaining = hil_le_get_u16(request->payload + 2);
    hil_agent_reply(HIL_MSG_FAULT_ARM | HIL_RESPONSE_BIT, request->seq, NULL, 0u);
}

/* An armed fault counts the requests down, then fires instead of serving one: a hang (interrupts
 * masked, no reply ever; only a reset ends it) or a crash (HardFault -> FAULT frame, halt). */
static void fire_armed_fault(const hil_frame_t *request)
{
    if (fault_arm.mode == 0u) {
        return;
    }
    if (fault_arm.remaining > 0u) {
        fault_arm.remaining--;
        return;
    }
    const uint8_t mode = fault_arm.mode;
    fault_arm.mode = 0u;
    if (mode == HIL_FAULT_MODE_CRASH) {
        handle_crash(request);
        return;
    }
    hil_agent_irq_disable();
    for (;;) {
        __asm volatile("" ::: "memory");
    }
}

/* Types the agent answers itself (or reserves: replies, ERROR) and a port may not register. */
static bool is_builtin(uint8_t type)
{
    return type == HIL_MSG_INFO || type == HIL_MSG_ECHO || type == HIL_MSG_RESET ||
           type == HIL_MSG_CRASH || type == HIL_MSG_FAULT_ARM || type == HIL_MSG_ERROR ||
           (type & HIL_RESPONSE_BIT) != 0u || hil_agent_infer_serves(type);
}

int hil_agent_register(uint8_t type, hil_agent_handler_fn handler)
{
    if (hil_agent_port_ == NULL || handler == NULL || is_builtin(type) ||
        agent.extra_count == HIL_AGENT_EXTRA_HANDLERS) {
        return -1;
    }
    for (size_t i = 0; i < agent.extra_count; i++) {
        if (agent.extra[i].type == type) {
            return -1;
        }
    }
    agent.extra[agent.extra_count].type = type;
    agent.extra[agent.extra_count].handler = handler;
    agent.extra_count++;
    return 0;
}

static void dispatch_frame(const hil_frame_t *request)
{
    const hil_agent_port_t *port = hil_agent_port_;
    if (request->type == HIL_MSG_FAULT_ARM && port->fault_injection) {
        handle_fault_arm(request);
        return;
    }
    fire_armed_fault(request);
    switch (request->type) {
    case HIL_MSG_INFO:
        if (require_empty(request)) {
            reply_info(HIL_MSG_INFO | HIL_RESPONSE_BIT, request->seq);
        }
        return;
    case HIL_MSG_ECHO:
        hil_agent_reply(HIL_MSG_ECHO | HIL_RESPONSE_BIT, request->seq, request->payload, request->length);
        return;
    case HIL_MSG_RESET:
        if (port->reset != NULL) {
            if (require_empty(request)) {
                handle_reset(request);
            }
            return;
        }
        break;
    case HIL_MSG_CRASH:
        if (port->fault_injection) {
            if (require_empty(request)) {
                handle_crash(request);
            }
            return;
        }
        break;
    default:
        if (hil_agent_infer_dispatch(request)) {
            return;
        }
        break;
    }
    for (size_t i = 0; i < agent.extra_count; i++) {
        if (agent.extra[i].type == request->type) {
            agent.extra[i].handler(request);
            return;
        }
    }
    hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_UNKNOWN_TYPE, request->type, "unknown type");
}

static const char *rx_error_text(int code)
{
    switch (code) {
    case HIL_LINK_ERR_BAD_COBS:
        return "bad COBS";
    case HIL_LINK_ERR_TRUNCATED:
        return "truncated frame";
    case HIL_LINK_ERR_BAD_CRC:
        return "CRC mismatch";
    case HIL_LINK_ERR_BAD_VERSION:
        return "unknown protocol version";
    case HIL_LINK_ERR_BAD_LENGTH:
        return "length does not match the frame";
    case HIL_LINK_ERR_OVERSIZE:
        return "frame exceeds max payload";
    default:
        return "rejected frame";
    }
}

/* A frame the codec rejected: ERROR with seq 0xFFFF (its header cannot be trusted). */
static void reply_rx_error(int code)
{
    const uint32_t detail = (code == HIL_LINK_ERR_OVERSIZE) ? HIL_MAX_PAYLOAD : 0u;
    hil_agent_reply_error(HIL_SEQ_UNKNOWN, 0u, code, detail, rx_error_text(code));
}

/* ---- receive ------------------------------------------------------------------------------------ */

void hil_agent_rx_feed(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!hil_ring_push(&rx_ring, data[i])) {
            /* counted in the ring; the frame it belonged to fails its CRC and is answered */
        }
    }
}

hil_ring_t *hil_agent_rx_ring(void)
{
    return &rx_ring;
}

bool hil_agent_rx_pending(void)
{
    return !hil_ring_is_empty(&rx_ring);
}

bool hil_agent_poll(void)
{
    bool consumed = false;
    uint8_t byte;
    while (hil_ring_pop(&rx_ring, &byte)) {
        consumed = true;
        hil_frame_t frame;
        int error = 0;
        switch (hil_frame_reader_push(&frame_reader, byte, &frame, &error)) {
        case HIL_RX_FRAME:
            dispatch_frame(&frame);
            break;
        case HIL_RX_ERROR:
            reply_rx_error(error);
            break;
        case HIL_RX_PENDING:
            break;
        }
    }
    return consumed;
}

/* ---- set-up ------------------------------------------------------------------------------------- */

static bool port_complete(const hil_agent_port_t *port)
{
    const char *const strings[] = {port->firmware_version, port->board, port->build_id, port->engine,
                                   port->cpu, port->cost_unit, port->reset_cause};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        if (strings[i] == NULL) {
            return false;
        }
    }
    if (port->write == NULL || port->cycles == NULL) {
        return false;
    }
    /* inference needs a model to run; raw windows need both halves of the preprocessing;
     * an upload needs somewhere to put the model and a way to drop the old one */
    if (port->invoke != NULL && port->model == NULL) {
        return false;
    }
    if (port->preprocess != NULL && (port->window_shape == NULL || port->invoke == NULL)) {
        return false;
    }
    if (port->invoke_layer != NULL && (port->layer_info == NULL || port->invoke == NULL)) {
        return false;
    }
    if (port->upload != NULL && (port->invoke == NULL || port->unload == NULL || port->upload->buffer == NULL ||
                                 port->upload->load == NULL)) {
        return false;
    }
    return port->n_requests == 0u || port->requests != NULL;
}

static bool buffers_setup(void)
{
    return hil_ring_init(&rx_ring, rx_storage, sizeof rx_storage) &&
           hil_frame_reader_init(&frame_reader, frame_storage, sizeof frame_storage, HIL_MAX_PAYLOAD);
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

static int requests_setup(const hil_agent_port_t *port)
{
    for (size_t i = 0; i < port->n_requests; i++) {
        if (hil_agent_register(port->requests[i].type, port->requests[i].handler) != 0) {
            return HIL_AGENT_ERR_TABLE;
        }
    }
    return HIL_AGENT_OK;
}

int hil_agent_init(const hil_agent_port_t *port)
{
    if (port == NULL || !port_complete(port) || !buffers_setup()) {
        return HIL_AGENT_ERR_PORT;
    }
    agent.info_len = info_fixed(port, agent.info, sizeof agent.info);
    if (agent.info_len == 0u) {
        return HIL_AGENT_ERR_INFO;
    }
    agent.extra_count = 0u;
    hil_agent_port_ = port;
    agent.capabilities = capabilities_of(port);
    const int requests_rc = requests_setup(port);
    const int model_rc = hil_agent_infer_init();
    return requests_rc != HIL_AGENT_OK ? requests_rc : model_rc;
}
