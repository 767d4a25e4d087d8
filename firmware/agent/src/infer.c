/*
 * The agent's inference requests (docs/protocol.md, "Pipeline"): INFER_WINDOW (raw counts through
 * the port's preprocessing), INFER_CODES (the input tensor as sent) and INFER_LAYERS (every op's
 * output, a stream of replies). The port runs the model; the cost brackets its invoke alone.
 */
#include <string.h>

#include "hil/le.h"
#include "infer_internal.h"

/* One reply payload: cost, lengths, input bytes, outputs. INFER_WINDOW first parks the window's
 * counts here (aligned int16), which the preprocessing has consumed before the input bytes are
 * copied over them. */
static union {
    uint8_t bytes[HIL_MAX_PAYLOAD];
    int16_t counts[HIL_MAX_PAYLOAD / 2u];
} reply;

/* ---- inference ------------------------------------------------------------------------------- */

/* The input bytes are in the input tensor and in the reply; run and reply. The cost brackets
 * the invoke and nothing else. */
static void invoke_and_reply(const hil_frame_t *request, uint8_t flags)
{
    const hil_agent_port_t *p = hil_agent_port_;
    const bool exclusive = (flags & HIL_INFER_FLAG_EXCLUSIVE) != 0u;
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    if (exclusive) {
        hil_agent_irq_disable(); /* RX bytes wait in the UART: lossless on emulators, see docs */
    }
    const uint32_t start = p->cycles();
    const int rc = p->invoke(&e);
    const uint32_t cost = p->cycles() - start;
    if (exclusive) {
        hil_agent_irq_enable();
    }
    if (rc != 0) {
        hil_agent_reply_failure(request, &e);
        return;
    }
    const uint32_t in_len = hil_agent_model_.port.input.bytes, out_len = hil_agent_model_.port.output.bytes;
    memcpy(reply.bytes + HIL_INFER_REPLY_HEADER_SIZE + in_len, hil_agent_model_.port.output.data, out_len);
    hil_le_put_u32(reply.bytes, cost);
    hil_le_put_u16(reply.bytes + 4, in_len);
    hil_le_put_u16(reply.bytes + 6, out_len);
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply.bytes,
                    HIL_INFER_REPLY_HEADER_SIZE + in_len + out_len);
}

void hil_agent_handle_infer_window(const hil_frame_t *request)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    if (!hil_agent_require_model(request)) {
        return;
    }
    const hil_agent_tensor_t *input = &hil_agent_model_.port.input;
    uint32_t axes_wanted = 0u, samples_wanted = 0u;
    if (hil_agent_port_->window_shape(input, &axes_wanted, &samples_wanted, &e) != 0) {
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (request->length < HIL_INFER_HEADER_SIZE) {
        hil_agent_error_set(&e, HIL_LINK_ERR_BAD_PAYLOAD, request->length);
        hil_agent_error_text(&e, "INFER_WINDOW takes flags n_axes n_samples:u16 counts");
        hil_agent_reply_failure(request, &e);
        return;
    }
    const uint8_t flags = request->payload[0];
    const uint32_t n_axes = request->payload[1];
    const uint32_t n_samples = hil_le_get_u16(request->payload + 2);
    if (n_axes != axes_wanted) {
        hil_agent_error_set(&e, HIL_LINK_ERR_SHAPE_MISMATCH, axes_wanted);
        hil_agent_error_text(&e, "window has ");
        hil_agent_error_int(&e, n_axes);
        hil_agent_error_text(&e, " axes, preprocessing reads ");
        hil_agent_error_int(&e, axes_wanted);
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (n_samples != samples_wanted) {
        hil_agent_error_set(&e, HIL_LINK_ERR_SHAPE_MISMATCH, samples_wanted);
        hil_agent_error_text(&e, "window has ");
        hil_agent_error_int(&e, n_samples);
        hil_agent_error_text(&e, " samples, model wants ");
        hil_agent_error_int(&e, samples_wanted);
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (request->length != HIL_INFER_HEADER_SIZE + 2u * n_axes * n_samples) {
        hil_agent_error_set(&e, HIL_LINK_ERR_BAD_PAYLOAD, request->length);
        hil_agent_error_text(&e, "payload is not n_samples x n_axes int16 counts (");
        hil_agent_error_int(&e, request->length - HIL_INFER_HEADER_SIZE);
        hil_agent_error_text(&e, " bytes)");
        hil_agent_reply_failure(request, &e);
        return;
    }
    /* the counts arrive little-endian and unaligned in the frame buffer: the Cortex-M4 is
     * little-endian, so copy them to an aligned, typed place first */
    memcpy(reply.counts, request->payload + HIL_INFER_HEADER_SIZE, 2u * n_axes * n_samples);
    if (hil_agent_port_->preprocess(reply.counts, n_samples, n_axes, input, &e) != 0) {
        hil_agent_reply_failure(request, &e);
        return;
    }
    memcpy(reply.bytes + HIL_INFER_REPLY_HEADER_SIZE, input->data, input->bytes);
    invoke_and_reply(request, flags);
}

/* INFER_CODES and INFER_LAYERS carry the input tensor as it is: its size must be the model's,
 * else a SHAPE_MISMATCH reply says both sizes. */
static bool input_tensor_fits(const hil_frame_t *request, const hil_agent_tensor_t *input)
{
    if (request->length == HIL_INFER_HEADER_SIZE + input->bytes) {
        return true;
    }
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    hil_agent_error_set(&e, HIL_LINK_ERR_SHAPE_MISMATCH, input->bytes);
    hil_agent_error_text(&e, "input tensor is ");
    hil_agent_error_int(&e, input->bytes);
    hil_agent_error_text(&e, " bytes, request carries ");
    hil_agent_error_int(&e, request->length < HIL_INFER_HEADER_SIZE ? 0 : request->length - HIL_INFER_HEADER_SIZE);
    hil_agent_reply_failure(request, &e);
    return false;
}

void hil_agent_handle_infer_codes(const hil_frame_t *request)
{
    if (!hil_agent_require_model(request)) {
        return;
    }
    const hil_agent_tensor_t *input = &hil_agent_model_.port.input;
    if (!input_tensor_fits(request, input)) {
        return;
    }
    memcpy(reply.bytes + HIL_INFER_REPLY_HEADER_SIZE, request->payload + HIL_INFER_HEADER_SIZE, input->bytes);
    memcpy(input->data, request->payload + HIL_INFER_HEADER_SIZE, input->bytes);
    invoke_and_reply(request, request->payload[0]);
}

/* INFER_LAYERS: the input as INFER_CODES, then the model op by op; after each op its output
 * tensor goes out at once (a later op may reuse its memory) as one or more reply frames of the
 * same seq, each a chunk header, the tensor description and up to LAYER_DATA_MAX bytes with
 * their own CRC-32. The cost of an op brackets its invoke_layer call and nothing else. */
#define LAYER_DATA_MAX (HIL_MAX_PAYLOAD - HIL_LAYER_CHUNK_HEADER_SIZE - HIL_TENSOR_DESC_SIZE)

static void layer_fail(uint16_t seq, uint8_t type, hil_agent_error_t *e, const char *text)
{
    hil_agent_error_set(e, HIL_LINK_ERR_INTERNAL, 0u);
    hil_agent_error_text(e, text);
    hil_agent_reply_error(seq, type, e->code, e->detail, e->text);
}

void hil_agent_handle_infer_layers(const hil_frame_t *request)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    if (!hil_agent_require_model(request)) {
        return;
    }
    const hil_agent_tensor_t *input = &hil_agent_model_.port.input;
    if (!input_tensor_fits(request, input)) {
        return;
    }
    const hil_agent_port_t *p = hil_agent_port_;
    const uint16_t seq = request->seq;
    const uint8_t type = request->type;
    const bool exclusive = (request->payload[0] & HIL_INFER_FLAG_EXCLUSIVE) != 0u;
    hil_agent_layer_t layer;
    memset(&layer, 0, sizeof layer);
    if (p->layer_info(0u, &layer) != 0 || layer.n_layers == 0u) {
        layer_fail(seq, type, &e, "engine has no layer info");
        return;
    }
    const uint32_t n_layers = layer.n_layers;
    memcpy(input->data, request->payload + HIL_INFER_HEADER_SIZE, input->bytes);
    uint16_t frame = 0u;
    for (uint32_t k = 0; k < n_layers; k++) {
        if (p->layer_info(k, &layer) != 0 || layer.output.data == NULL) {
            layer_fail(seq, type, &e, "engine has no layer info");
            return;
        }
        if (exclusive) {
            hil_agent_irq_disable();
        }
        const uint32_t start = p->cycles();
        const int rc = p->invoke_layer(k, &e);
        const uint32_t cost = p->cycles() - start;
        if (exclusive) {
            hil_agent_irq_enable();
        }
        if (rc != 0) {
            hil_agent_reply_error(seq, type, e.code, e.detail, e.text);
            return;
        }
        const uint8_t *bytes = (const uint8_t *)layer.output.data;
        uint32_t offset = 0u;
        do {
            const uint32_t left = layer.output.bytes - offset;
            const uint32_t len = left < LAYER_DATA_MAX ? left : LAYER_DATA_MAX;
            const bool last = k + 1u == n_layers && offset + len == layer.output.bytes;
            uint8_t *out = reply.bytes;
            hil_le_put_u16(out, frame);
            out[2] = last ? HIL_LAYER_FLAG_LAST : 0u;
            out[3] = 0u;
            hil_le_put_u16(out + 4, k);
            hil_le_put_u16(out + 6, n_layers);
            hil_le_put_u16(out + 8, layer.op_code);
            hil_le_put_u16(out + 10, layer.tensor_index);
            hil_le_put_u32(out + 12, cost);
            hil_le_put_u32(out + 16, offset);
            hil_le_put_u32(out + 20, hil_crc32(bytes + offset, len));
            hil_agent_tensor_desc(out + HIL_LAYER_CHUNK_HEADER_SIZE, &layer.output);
            memcpy(out + HIL_LAYER_CHUNK_HEADER_SIZE + HIL_TENSOR_DESC_SIZE, bytes + offset, len);
            hil_agent_reply(type | HIL_RESPONSE_BIT, seq, out, HIL_LAYER_CHUNK_HEADER_SIZE + HIL_TENSOR_DESC_SIZE + len);
            offset += len;
            frame++;
        } while (offset < layer.output.bytes);
    }
}
