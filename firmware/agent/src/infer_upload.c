/*
 * Model upload (docs/protocol.md, "Pipeline"):
 *
 *   no model --LOAD_BEGIN--> loading --LOAD_CHUNK*--> loading --LOAD_END--> model (or no model)
 * LOAD_BEGIN drops the current model (its bytes are about to be overwritten: engines read
 * weights in place). A chunk with a bad CRC or the wrong offset is refused and changes nothing,
 * so the host may send the right one.
 */
#include <string.h>

#include "hil/le.h"
#include "infer_internal.h"

#define CHUNK_HEADER HIL_LOAD_CHUNK_HEADER_SIZE

static struct {
    bool active;
    uint32_t size;
    uint32_t crc32;   /* declared by LOAD_BEGIN */
    uint32_t received;
    uint32_t running; /* CRC of the bytes received so far (running form) */
} upload;

void hil_agent_upload_init(void)
{
    memset(&upload, 0, sizeof upload);
}

void hil_agent_handle_load_begin(const hil_frame_t *request)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    const hil_agent_upload_t *up = hil_agent_port_->upload;
    if (request->length != HIL_LOAD_BEGIN_SIZE) {
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
    hil_agent_model_drop();
    upload.active = true;
    upload.size = size;
    upload.crc32 = crc;
    upload.received = 0u;
    upload.running = HIL_CRC32_INIT;
    uint8_t payload[HIL_LOAD_BEGIN_REPLY_SIZE];
    hil_le_put_u32(payload, up->size);
    hil_le_put_u16(payload + 4, HIL_MAX_PAYLOAD - CHUNK_HEADER);
    hil_le_put_u16(payload + 6, 0u);
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, payload, sizeof payload);
}

static bool require_upload(const hil_frame_t *request)
{
    if (!upload.active) {
        hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_STATE, 0u,
                              "no model upload in progress (send LOAD_BEGIN)");
    }
    return upload.active;
}

void hil_agent_handle_load_chunk(const hil_frame_t *request)
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
    memcpy(hil_agent_port_->upload->buffer + offset, data, len);
    upload.running = hil_crc32_update(upload.running, data, len);
    upload.received += len;
    uint8_t payload[4];
    hil_le_put_u32(payload, upload.received);
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, payload, sizeof payload);
}

void hil_agent_handle_load_end(const hil_frame_t *request)
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
    if (hil_agent_port_->upload->load(hil_agent_port_->upload->buffer, upload.size, &e) != 0) {
        hil_agent_model_drop();
        hil_agent_reply_failure(request, &e);
        return;
    }
    if (hil_agent_model_adopt(HIL_AGENT_MODEL_SOURCE_UPLOADED, &e) != 0) {
        hil_agent_reply_failure(request, &e);
        return;
    }
    uint8_t payload[HIL_MODEL_DESC_SIZE];
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, payload, hil_agent_model_desc(payload));
}
