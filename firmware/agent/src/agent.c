/*
 * The agent's core: the RX ring and frame reader, and set-up (docs/protocol.md). Its other jobs:
 * agent_reply.c (error texts, replies, ERROR, FAULT), agent_info.c (INFO/BOOT), agent_dispatch.c
 * (the built-in requests and the port's); the inference requests are infer*.c.
 */
#include "hil_agent/agent.h"

#include "agent_internal.h"

const hil_agent_port_t *hil_agent_port_;

static hil_ring_t rx_ring;
static uint8_t rx_storage[HIL_RX_RING_SIZE];
/* one encoded frame of maximal size; decoded in place, so ECHO replies straight from it */
static uint8_t frame_storage[HIL_FRAME_MAX_WIRE(HIL_MAX_PAYLOAD)];
static hil_frame_reader_t frame_reader;

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
            hil_agent_dispatch(&frame);
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
    if (!hil_agent_info_init(port)) {
        return HIL_AGENT_ERR_INFO;
    }
    hil_agent_dispatch_init();
    hil_agent_port_ = port;
    hil_agent_info_set_capabilities(port); /* after the port is set: the inference part asks it */
    const int requests_rc = requests_setup(port);
    const int model_rc = hil_agent_infer_init();
    return requests_rc != HIL_AGENT_OK ? requests_rc : model_rc;
}
