/*
 * The agent's inference requests (docs/protocol.md, "Pipeline"): model upload, MODEL_INFO,
 * INFER_WINDOW, INFER_CODES and INFER_LAYERS (every op's output, a stream of replies). The port runs the model and the preprocessing; this file owns
 * the model's bookkeeping (source, size, CRC-32), the upload state machine and the replies.
 *
 *   no model --LOAD_BEGIN--> loading --LOAD_CHUNK*--> loading --LOAD_END--> model (or no model)
 * LOAD_BEGIN drops the current model (its bytes are about to be overwritten: engines read
 * weights in place). A chunk with a bad CRC or the wrong offset is refused and changes nothing,
 * so the host may send the right one.
 */
#include <string.h>

#include "agent_internal.h"
#include "hil/le.h"

#define CHUNK_HEADER HIL_LOAD_CHUNK_HEADER_SIZE

static struct {
    bool loaded;
    uint8_t source;        /* HIL_AGENT_MODEL_SOURCE_* */
    uint32_t size;
    uint32_t crc32;
    hil_agent_model_t port; /* as the port reported it when it was adopted */
} model;

static struct {
    bool active;
    uint32_t size;
    uint32_t crc32;   /* declared by LOAD_BEGIN */
    uint32_t received;
    uint32_t running; /* CRC of the bytes received so far (running form) */
} upload;

/* One reply payload: cost, lengths, input bytes, outputs. INFER_WINDOW first parks the window's
 * counts here (aligned int16), which the preprocessing has consumed before the input bytes are
 * copied over them. */
static union {
    uint8_t bytes[HIL_MAX_PAYLOAD];
    int16_t counts[HIL_MAX_PAYLOAD / 2u];
} reply;

static const hil_agent_port_t *port(void)
{
    return hil_agent_port_;
}

bool hil_agent_infer_enabled(void)
{
    return port() != NULL && port()->invoke != NULL;
}

bool hil_agent_infer_serves(uint8_t type)
{
    if (!hil_agent_infer_enabled()) {
        return false;
    }
    switch (type) {
    case HIL_MSG_MODEL_INFO:
    case HIL_MSG_INFER_CODES:
        return true;
    case HIL_MSG_INFER_WINDOW:
        return port()->preprocess != NULL;
    case HIL_MSG_INFER_LAYERS:
        return port()->invoke_layer != NULL;
    case HIL_MSG_LOAD_BEGIN:
    case HIL_MSG_LOAD_CHUNK:
    case HIL_MSG_LOAD_END:
        return port()->upload != NULL;
    default:
        return false;
    }
}

uint32_t hil_agent_infer_capabilities(void)
{
    if (!hil_agent_infer_enabled()) {
        return 0u;
    }
    uint32_t caps = HIL_AGENT_CAP_INFER_CODES;
    if (port()->preprocess != NULL) {
        caps |= HIL_AGENT_CAP_INFER_WINDOW;
    }
    if (port()->upload != NULL) {
        caps |= HIL_AGENT_CAP_MODEL_UPLOAD;
    }
    if (port()->invoke_layer != NULL) {
        caps |= HIL_AGENT_CAP_INFER_LAYERS;
    }
    return caps;
}

const hil_agent_tensor_t *hil_agent_model_input(void)
{
    return model.loaded ? &model.port.input : NULL;
}

/* ---- model ----------------------------------------------------------------------------------- */

static void tensor_desc(uint8_t *out, const hil_agent_tensor_t *tensor)
{
    memset(out, 0, HIL_TENSOR_DESC_SIZE);
    out[0] = tensor->dtype;
    out[1] = tensor->rank;
    for (uint32_t d = 0; d < HIL_AGENT_MAX_DIMS; d++) {
        hil_le_put_u32(out + 4u + 4u * d, d < tensor->rank ? (uint32_t)tensor->dims[d] : 0u);
    }
    uint32_t scale_bits;
    memcpy(&scale_bits, &tensor->scale, sizeof scale_bits);
    hil_le_put_u32(out + 28, scale_bits);
    hil_le_put_u32(out + 32, (uint32_t)tensor->zero_point);
    hil_le_put_u32(out + 36, tensor->bytes);
}

/* Only for a loaded model (MODEL_INFO and LOAD_END answer BAD_STATE / an error otherwise). */
static size_t model_desc(uint8_t *out)
{
    memset(out, 0, HIL_MODEL_DESC_SIZE);
    hil_le_put_u32(out, model.crc32);
    hil_le_put_u32(out + 4, model.size);
    hil_le_put_u32(out + 8, model.port.arena_used);
    hil_le_put_u32(out + 12, port()->arena_size);
    out[16] = model.source;
    out[17] = model.port.n_inputs;
    out[18] = model.port.n_outputs;
    tensor_desc(out + 20, &model.port.input);
    tensor_desc(out + 20 + HIL_TENSOR_DESC_SIZE, &model.port.output);
    return HIL_MODEL_DESC_SIZE;
}

static void forget_model(void)
{
    model.loaded = false;
    model.source = HIL_AGENT_MODEL_SOURCE_NONE;
    model.size = 0u;
    model.crc32 = 0u;
    memset(&model.port, 0, sizeof model.port);
}

static void drop_model(void)
{
    forget_model();
    if (port()->unload != NULL) {
        port()->unload();
    }
}

/* The port has loaded a model: check it fits the protocol and take it. On failure the port's
 * model is dropped and *error says why. */
static int adopt_model(uint8_t source, hil_agent_error_t *error)
{
    forget_model();
    hil_agent_model_t found;
    memset(&found, 0, sizeof found);
    const int rc = port()->model(&found);
    if (found.n_inputs != 1u || found.n_outputs != 1u) {
        hil_agent_error_set(error, HIL_LINK_ERR_MODEL_REJECTED, found.n_inputs);
        hil_agent_error_text(error, "pipeline needs 1 input and 1 output tensor");
        drop_model();
        return -1;
    }
    if (rc != 0 || found.input.data == NULL || found.output.data == NULL) {
        hil_agent_error_set(error, HIL_LINK_ERR_INTERNAL, 0u);
        hil_agent_error_text(error, "engine has no tensor info");
        drop_model();
        return -1;
    }
    /* a reply carries the input bytes and the outputs; a request the input tensor */
    const uint32_t io = found.input.bytes + found.output.bytes;
    if (io + HIL_INFER_REPLY_HEADER_SIZE > HIL_MAX_PAYLOAD) {
        hil_agent_error_set(error, HIL_LINK_ERR_TOO_LARGE, io);
        hil_agent_error_text(error, "input+output bytes ");
        hil_agent_error_int(error, io);
        hil_agent_error_text(error, " exceed one reply (max payload ");
        hil_agent_error_int(error, HIL_MAX_PAYLOAD);
        hil_agent_error_text(error, ")");
        drop_model();
        return -1;
    }
    model.port = found;
    model.loaded = true;
    model.source = source;
    model.size = found.size;
    model.crc32 = found.bytes != NULL ? hil_crc32(found.bytes, found.size) : 0u;
    return 0;
}

int hil_agent_infer_init(void)
{
    forget_model();
    memset(&upload, 0, sizeof upload);
    if (!hil_agent_infer_enabled()) {
        return HIL_AGENT_OK;
    }
    hil_agent_model_t probe;
    memset(&probe, 0, sizeof probe);
    if (port()->model(&probe) != 0) {
        return HIL_AGENT_OK; /* no linked model: one may be uploaded */
    }
    hil_agent_error_t error;
    hil_agent_error_init(&error);
    return adopt_model(HIL_AGENT_MODEL_SOURCE_LINKED, &error) == 0 ? HIL_AGENT_OK : HIL_AGENT_ERR_MODEL;
}

static void handle_load_begin(const hil_frame_t *request)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    const hil_agent_upload_t *up = port()->upload;
    if (request->length != 8u) {
        hil_agent_error_set(&e, HIL_LINK_ERR_BAD_PAYLOAD, request->length);
        hil_agent_error_text(&e, "LOAD_BEGIN takes size:u32 crc32:u32");
        hil_agent_reply_failure(request, &e);
        return;
    }
    const uint32_t size = hil_le_get_u32(request->payload);
    const uint32_t crc = hil_le_get_u32(request->payload + 4);
    if (size == 0u) {
        hil_agent_error_set(&e, HIL_LINK_ERR_BAD_PAYLOAD, 0u);
        hil_agent_error_text(&e, "model size is 0");
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (size > up->size) {
        hil_agent_error_set(&e, HIL_LINK_ERR_TOO_LARGE, up->size);
        hil_agent_error_text(&e, "model of ");
        hil_agent_error_int(&e, size);
        hil_agent_error_text(&e, " bytes exceeds the model buffer of ");
        hil_agent_error_int(&e, up->size);
        hil_agent_reply_failure(request, &e);
        return;
    }
    drop_model();
    upload.active = true;
    upload.size = size;
    upload.crc32 = crc;
    upload.received = 0u;
    upload.running = HIL_CRC32_INIT;
    uint8_t payload[8];
    hil_le_put_u32(payload, up->size);
    hil_le_put_u16(payload + 4, HIL_MAX_PAYLOAD - CHUNK_HEADER);
    hil_le_put_u16(payload + 6, 0u);
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, payload, sizeof payload);
}

static bool require_upload(const hil_frame_t *request)
{
    if (upload.active) {
        return true;
    }
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    hil_agent_error_set(&e, HIL_LINK_ERR_BAD_STATE, 0u);
    hil_agent_error_text(&e, "no model upload in progress (send LOAD_BEGIN)");
    hil_agent_reply_failure(request, &e);
    return false;
}

static void handle_load_chunk(const hil_frame_t *request)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    if (!require_upload(request)) {
        return;
    }
    if (request->length <= CHUNK_HEADER) {
        hil_agent_error_set(&e, HIL_LINK_ERR_BAD_PAYLOAD, request->length);
        hil_agent_error_text(&e, "LOAD_CHUNK takes offset:u32 crc32:u32 data");
        hil_agent_reply_failure(request, &e);
        return;
    }
    const uint32_t offset = hil_le_get_u32(request->payload);
    const uint32_t crc = hil_le_get_u32(request->payload + 4);
    const uint8_t *data = request->payload + CHUNK_HEADER;
    const uint32_t len = request->length - CHUNK_HEADER;
    if (offset != upload.received) {
        hil_agent_error_set(&e, HIL_LINK_ERR_OUT_OF_ORDER, upload.received);
        hil_agent_error_text(&e, "chunk at offset ");
        hil_agent_error_int(&e, offset);
        hil_agent_error_text(&e, ", expected ");
        hil_agent_error_int(&e, upload.received);
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (len > upload.size - upload.received) {
        hil_agent_error_set(&e, HIL_LINK_ERR_TOO_LARGE, upload.size);
        hil_agent_error_text(&e, "chunk runs past the declared size ");
        hil_agent_error_int(&e, upload.size);
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (hil_crc32(data, len) != crc) {
        hil_agent_error_set(&e, HIL_LINK_ERR_BAD_CHUNK_CRC, offset);
        hil_agent_error_text(&e, "chunk CRC mismatch at offset ");
        hil_agent_error_int(&e, offset);
        hil_agent_reply_failure(request, &e);
        return;
    }
    memcpy(port()->upload->buffer + offset, data, len);
    upload.running = hil_crc32_update(upload.running, data, len);
    upload.received += len;
    uint8_t payload[4];
    hil_le_put_u32(payload, upload.received);
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, payload, sizeof payload);
}

static void handle_load_end(const hil_frame_t *request)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    if (!require_upload(request)) {
        return;
    }
    upload.active = false; /* whatever happens now, this upload is over */
    if (upload.received != upload.size) {
        hil_agent_error_set(&e, HIL_LINK_ERR_BAD_STATE, upload.received);
        hil_agent_error_text(&e, "received ");
        hil_agent_error_int(&e, upload.received);
        hil_agent_error_text(&e, " of ");
        hil_agent_error_int(&e, upload.size);
        hil_agent_error_text(&e, " model bytes");
        hil_agent_reply_failure(request, &e);
        return;
    }
    const uint32_t crc = upload.running ^ 0xFFFFFFFFu;
    if (crc != upload.crc32) {
        hil_agent_error_set(&e, HIL_LINK_ERR_BAD_MODEL_CRC, crc);
        hil_agent_error_text(&e, "model CRC mismatch: declared ");
        hil_agent_error_int(&e, upload.crc32);
        hil_agent_error_text(&e, ", computed ");
        hil_agent_error_int(&e, crc);
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (port()->upload->load(port()->upload->buffer, upload.size, &e) != 0) {
        drop_model();
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (adopt_model(HIL_AGENT_MODEL_SOURCE_UPLOADED, &e) != 0) {
        hil_agent_reply_failure(request, &e);
        return;
    }
    uint8_t payload[HIL_MODEL_DESC_SIZE];
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, payload, model_desc(payload));
}

static bool require_model(const hil_frame_t *request)
{
    if (model.loaded) {
        return true;
    }
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    hil_agent_error_set(&e, HIL_LINK_ERR_BAD_STATE, 0u);
    hil_agent_error_text(&e, "no model loaded");
    hil_agent_reply_failure(request, &e);
    return false;
}

static void handle_model_info(const hil_frame_t *request)
{
    if (!require_model(request)) {
        return;
    }
    uint8_t payload[HIL_MODEL_DESC_SIZE];
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, payload, model_desc(payload));
}

/* ---- inference ------------------------------------------------------------------------------- */

/* The input bytes are in the input tensor and in the reply; run and reply. The cost brackets
 * the invoke and nothing else. */
static void invoke_and_reply(const hil_frame_t *request, uint8_t flags)
{
    const hil_agent_port_t *p = port();
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
    const uint32_t in_len = model.port.input.bytes, out_len = model.port.output.bytes;
    memcpy(reply.bytes + HIL_INFER_REPLY_HEADER_SIZE + in_len, model.port.output.data, out_len);
    hil_le_put_u32(reply.bytes, cost);
    hil_le_put_u16(reply.bytes + 4, in_len);
    hil_le_put_u16(reply.bytes + 6, out_len);
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply.bytes,
                    HIL_INFER_REPLY_HEADER_SIZE + in_len + out_len);
}

static void handle_infer_window(const hil_frame_t *request)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    if (!require_model(request)) {
        return;
    }
    const hil_agent_tensor_t *input = &model.port.input;
    uint32_t axes_wanted = 0u, samples_wanted = 0u;
    if (port()->window_shape(input, &axes_wanted, &samples_wanted, &e) != 0) {
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
    if (port()->preprocess(reply.counts, n_samples, n_axes, input, &e) != 0) {
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

static void handle_infer_codes(const hil_frame_t *request)
{
    if (!require_model(request)) {
        return;
    }
    const hil_agent_tensor_t *input = &model.port.input;
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

static void handle_infer_layers(const hil_frame_t *request)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    if (!require_model(request)) {
        return;
    }
    const hil_agent_tensor_t *input = &model.port.input;
    if (!input_tensor_fits(request, input)) {
        return;
    }
    const hil_agent_port_t *p = port();
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
            tensor_desc(out + HIL_LAYER_CHUNK_HEADER_SIZE, &layer.output);
            memcpy(out + HIL_LAYER_CHUNK_HEADER_SIZE + HIL_TENSOR_DESC_SIZE, bytes + offset, len);
            hil_agent_reply(type | HIL_RESPONSE_BIT, seq, out, HIL_LAYER_CHUNK_HEADER_SIZE + HIL_TENSOR_DESC_SIZE + len);
            offset += len;
            frame++;
        } while (offset < layer.output.bytes);
    }
}

bool hil_agent_infer_dispatch(const hil_frame_t *request)
{
    if (!hil_agent_infer_serves(request->type)) {
        return false;
    }
    switch (request->type) {
    case HIL_MSG_LOAD_BEGIN:
        handle_load_begin(request);
        break;
    case HIL_MSG_LOAD_CHUNK:
        handle_load_chunk(request);
        break;
    case HIL_MSG_LOAD_END:
        handle_load_end(request);
        break;
    case HIL_MSG_MODEL_INFO:
        handle_model_info(request);
        break;
    case HIL_MSG_INFER_WINDOW:
        handle_infer_window(request);
        break;
    case HIL_MSG_INFER_LAYERS:
        handle_infer_layers(request);
        break;
    default: /* HIL_MSG_INFER_CODES */
        handle_infer_codes(request);
        break;
    }
    return true;
}

/* ---- INFO ------------------------------------------------------------------------------------ */

static size_t tlv_u32(uint8_t *out, uint8_t tag, uint32_t value)
{
    out[0] = tag;
    out[1] = 4u;
    hil_le_put_u32(out + 2, value);
    return 6u;
}

size_t hil_agent_infer_info(uint8_t *out, size_t cap)
{
    if (!hil_agent_infer_enabled()) {
        return 0u;
    }
    static const char *const sources[] = {"none", "linked", "uploaded"};
    const char *source = sources[model.source <= HIL_AGENT_MODEL_SOURCE_UPLOADED ? model.source : 0u];
    const size_t source_len = strlen(source);
    if (cap < 5u * 6u + 2u + source_len) {
        return 0u;
    }
    size_t len = 0;
    len += tlv_u32(out + len, HIL_TAG_MODEL_CRC32, model.crc32);
    len += tlv_u32(out + len, HIL_TAG_MODEL_BYTES, model.size);
    len += tlv_u32(out + len, HIL_TAG_MODEL_BUFFER, port()->upload != NULL ? port()->upload->size : 0u);
    len += tlv_u32(out + len, HIL_TAG_ARENA_USED, model.loaded ? model.port.arena_used : 0u);
    len += tlv_u32(out + len, HIL_TAG_ARENA_SIZE, port()->arena_size);
    out[len++] = HIL_TAG_MODEL_SOURCE;
    out[len++] = (uint8_t)source_len;
    memcpy(out + len, source, source_len);
    len += source_len;
    return len;
}
