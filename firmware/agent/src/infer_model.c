/*
 * The agent's model (docs/protocol.md, "Pipeline"): the bookkeeping of the port's model (source,
 * size, CRC-32), which inference requests the port serves, MODEL_INFO, the model's INFO tags, and
 * the dispatch of the inference requests to infer_upload.c (model upload) and infer.c (INFER_*).
 * The port runs the model; the agent owns the replies.
 */
#include <string.h>

#include "hil/le.h"
#include "infer_internal.h"

hil_agent_model_state_t hil_agent_model_;

bool hil_agent_infer_enabled(void)
{
    return hil_agent_port_ != NULL && hil_agent_port_->invoke != NULL;
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
        return hil_agent_port_->preprocess != NULL;
    case HIL_MSG_INFER_LAYERS:
        return hil_agent_port_->invoke_layer != NULL;
    case HIL_MSG_LOAD_BEGIN:
    case HIL_MSG_LOAD_CHUNK:
    case HIL_MSG_LOAD_END:
        return hil_agent_port_->upload != NULL;
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
    if (hil_agent_port_->preprocess != NULL) {
        caps |= HIL_AGENT_CAP_INFER_WINDOW;
    }
    if (hil_agent_port_->upload != NULL) {
        caps |= HIL_AGENT_CAP_MODEL_UPLOAD;
    }
    if (hil_agent_port_->invoke_layer != NULL) {
        caps |= HIL_AGENT_CAP_INFER_LAYERS;
    }
    return caps;
}

const hil_agent_tensor_t *hil_agent_model_input(void)
{
    return hil_agent_model_.loaded ? &hil_agent_model_.port.input : NULL;
}

/* ---- model ----------------------------------------------------------------------------------- */

void hil_agent_tensor_desc(uint8_t *out, const hil_agent_tensor_t *tensor)
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
size_t hil_agent_model_desc(uint8_t *out)
{
    memset(out, 0, HIL_MODEL_DESC_SIZE);
    hil_le_put_u32(out, hil_agent_model_.crc32);
    hil_le_put_u32(out + 4, hil_agent_model_.size);
    hil_le_put_u32(out + 8, hil_agent_model_.port.arena_used);
    hil_le_put_u32(out + 12, hil_agent_port_->arena_size);
    out[16] = hil_agent_model_.source;
    out[17] = hil_agent_model_.port.n_inputs;
    out[18] = hil_agent_model_.port.n_outputs;
    hil_agent_tensor_desc(out + HIL_MODEL_DESC_HEADER_SIZE, &hil_agent_model_.port.input);
    hil_agent_tensor_desc(out + HIL_MODEL_DESC_HEADER_SIZE + HIL_TENSOR_DESC_SIZE, &hil_agent_model_.port.output);
    return HIL_MODEL_DESC_SIZE;
}

static void forget_model(void)
{
    hil_agent_model_.loaded = false;
    hil_agent_model_.source = HIL_AGENT_MODEL_SOURCE_NONE;
    hil_agent_model_.size = 0u;
    hil_agent_model_.crc32 = 0u;
    memset(&hil_agent_model_.port, 0, sizeof hil_agent_model_.port);
}

void hil_agent_model_drop(void)
{
    forget_model();
    if (hil_agent_port_->unload != NULL) {
        hil_agent_port_->unload();
    }
}

int hil_agent_model_adopt(uint8_t source, hil_agent_error_t *error)
{
    forget_model();
    hil_agent_model_t found;
    memset(&found, 0, sizeof found);
    const int rc = hil_agent_port_->model(&found);
    if (found.n_inputs != 1u || found.n_outputs != 1u) {
        hil_agent_error_set(error, HIL_LINK_ERR_MODEL_REJECTED, found.n_inputs);
        hil_agent_error_text(error, "pipeline needs 1 input and 1 output tensor");
        hil_agent_model_drop();
        return -1;
    }
    if (rc != 0 || found.input.data == NULL || found.output.data == NULL) {
        hil_agent_error_set(error, HIL_LINK_ERR_INTERNAL, 0u);
        hil_agent_error_text(error, "engine has no tensor info");
        hil_agent_model_drop();
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
        hil_agent_model_drop();
        return -1;
    }
    hil_agent_model_.port = found;
    hil_agent_model_.loaded = true;
    hil_agent_model_.source = source;
    hil_agent_model_.size = found.size;
    hil_agent_model_.crc32 = found.bytes != NULL ? hil_crc32(found.bytes, found.size) : 0u;
    return 0;
}

int hil_agent_infer_init(void)
{
    forget_model();
    hil_agent_upload_init();
    if (!hil_agent_infer_enabled()) {
        return HIL_AGENT_OK;
    }
    hil_agent_model_t probe;
    memset(&probe, 0, sizeof probe);
    if (hil_agent_port_->model(&probe) != 0) {
        return HIL_AGENT_OK; /* no linked model: one may be uploaded */
    }
    hil_agent_error_t error;
    hil_agent_error_init(&error);
    return hil_agent_model_adopt(HIL_AGENT_MODEL_SOURCE_LINKED, &error) == 0 ? HIL_AGENT_OK : HIL_AGENT_ERR_MODEL;
}

bool hil_agent_require_model(const hil_frame_t *request)
{
    if (!hil_agent_model_.loaded) {
        hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_STATE, 0u, "no model loaded");
    }
    return hil_agent_model_.loaded;
}

static void handle_model_info(const hil_frame_t *request)
{
    if (!hil_agent_require_model(request)) {
        return;
    }
    uint8_t payload[HIL_MODEL_DESC_SIZE];
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, payload, hil_agent_model_desc(payload));
}

bool hil_agent_infer_dispatch(const hil_frame_t *request)
{
    if (!hil_agent_infer_serves(request->type)) {
        return false;
    }
    switch (request->type) {
    case HIL_MSG_LOAD_BEGIN:
        hil_agent_handle_load_begin(request);
        break;
    case HIL_MSG_LOAD_CHUNK:
        hil_agent_handle_load_chunk(request);
        break;
    case HIL_MSG_LOAD_END:
        hil_agent_handle_load_end(request);
        break;
    case HIL_MSG_MODEL_INFO:
        handle_model_info(request);
        break;
    case HIL_MSG_INFER_WINDOW:
        hil_agent_handle_infer_window(request);
        break;
    case HIL_MSG_INFER_LAYERS:
        hil_agent_handle_infer_layers(request);
        break;
    default: /* HIL_MSG_INFER_CODES */
        hil_agent_handle_infer_codes(request);
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
    const char *source = sources[hil_agent_model_.source <= HIL_AGENT_MODEL_SOURCE_UPLOADED ? hil_agent_model_.source : 0u];
    const size_t source_len = strlen(source);
    if (cap < 5u * 6u + 2u + source_len) {
        return 0u;
    }
    size_t len = 0;
    len += tlv_u32(out + len, HIL_TAG_MODEL_CRC32, hil_agent_model_.crc32);
    len += tlv_u32(out + len, HIL_TAG_MODEL_BYTES, hil_agent_model_.size);
    len += tlv_u32(out + len, HIL_TAG_MODEL_BUFFER, hil_agent_port_->upload != NULL ? hil_agent_port_->upload->size : 0u);
    len += tlv_u32(out + len, HIL_TAG_ARENA_USED, hil_agent_model_.loaded ? hil_agent_model_.port.arena_used : 0u);
    len += tlv_u32(out + len, HIL_TAG_ARENA_SIZE, hil_agent_port_->arena_size);
    out[len++] = HIL_TAG_MODEL_SOURCE;
    out[len++] = (uint8_t)source_len;
    memcpy(out + len, source, source_len);
    len += source_len;
    return len;
}
