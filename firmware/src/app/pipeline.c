/*
 * The on-device pipeline: see hil/pipeline.h and docs/protocol.md ("Pipeline").
 *
 * State machine, one model at a time:
 *   no model --LOAD_BEGIN--> loading --LOAD_CHUNK*--> loading --LOAD_END--> model (or no model)
 * LOAD_BEGIN drops the current model (its bytes are about to be overwritten: the engine reads
 * weights in place). A chunk with a bad CRC or the wrong offset is refused and changes nothing,
 * so the host may send the right one. Preprocessing is independent of the model; its channel
 * count is checked against the model input whenever both exist.
 */
#include "hil/pipeline.h"

#include <stdbool.h>
#include <string.h>

#include "hil/board.h"
#include "hil/config.h"
#include "hil/cortex_m.h"
#include "hil/dispatch.h"
#include "hil/engine.h"
#include "hil/link.h"
#include "hil/preprocess.h"
#include "hil/protocol.h"

#define TEXT_MAX 96u
#define CHUNK_HEADER HIL_LOAD_CHUNK_HEADER_SIZE

_Static_assert(HIL_MODEL_BUFFER_SIZE % 16u == 0u, "model buffer must be a multiple of 16 bytes");
_Static_assert(HIL_ARENA_SIZE % 16u == 0u, "arena must be a multiple of 16 bytes");

#ifdef HIL_LINKED_MODEL_PATH
/* make MODEL=path.tflite: the model is placed in flash, 16-byte aligned, and used in place. */
__asm__(".section .rodata.hil_linked_model,\"a\",%progbits\n"
        ".balign 16\n"
        ".global hil_linked_model\n"
        "hil_linked_model:\n"
        ".incbin \"" HIL_LINKED_MODEL_PATH "\"\n"
        ".global hil_linked_model_end\n"
        "hil_linked_model_end:\n"
        ".previous\n");
extern const uint8_t hil_linked_model[];
extern const uint8_t hil_linked_model_end[];
#endif

static uint8_t model_buffer[HIL_MODEL_BUFFER_SIZE] __attribute__((aligned(16)));
static uint8_t arena[HIL_ARENA_SIZE] __attribute__((aligned(16)));
/* one reply payload: cost, lengths, input codes, outputs */
static uint8_t reply_buffer[HIL_MAX_PAYLOAD];

static struct {
    hil_engine_t engine;
    bool loaded;
    uint8_t source;        /* HIL_MODEL_SOURCE_* */
    const uint8_t *bytes;  /* the loaded model: model_buffer or the linked one */
    uint32_t size;
    uint32_t crc32;
    hil_tensor_info_t input;
    hil_tensor_info_t output;
} model;

static struct {
    bool active;
    uint32_t size;
    uint32_t crc32;   /* declared by LOAD_BEGIN */
    uint32_t received;
    uint32_t running; /* CRC of the bytes received so far (running form) */
} upload;

static struct {
    hil_preprocess_channel_t channels[HIL_PIPELINE_MAX_CHANNELS];
    int32_t thresholds[HIL_PIPELINE_THRESHOLD_POOL];
    uint32_t thresholds_used;
    uint8_t kind;
    uint8_t n_channels; /* declared total */
    uint8_t n_axes;
    uint8_t received;   /* channel records received so far */
    bool ready;         /* all records received and checked */
} prep;

/* ---- little-endian fields ---------------------------------------------------------------- */

static uint32_t get_u16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
    return get_u16(p) | (get_u16(p + 2) << 16);
}

static int32_t get_i32(const uint8_t *p)
{
    return (int32_t)get_u32(p);
}

static int64_t get_i64(const uint8_t *p)
{
    return (int64_t)((uint64_t)get_u32(p) | ((uint64_t)get_u32(p + 4) << 32));
}

static void put_u16(uint8_t *p, uint32_t value)
{
    p[0] = (uint8_t)(value & 0xFFu);
    p[1] = (uint8_t)((value >> 8) & 0xFFu);
}

static void put_u32(uint8_t *p, uint32_t value)
{
    put_u16(p, value & 0xFFFFu);
    put_u16(p + 2, value >> 16);
}

/* ---- small text for ERROR replies, no printf ------------------------------------------------ */

typedef struct {
    char text[TEXT_MAX + 1u];
    size_t len;
} text_t;

static void text_add(text_t *t, const char *s)
{
    while (*s != '\0' && t->len < TEXT_MAX) {
        t->text[t->len++] = *s++;
    }
    t->text[t->len] = '\0';
}

static void text_int(text_t *t, int64_t value)
{
    char digits[24];
    size_t n = 0;
    uint64_t magnitude = value < 0 ? (uint64_t)(-(value + 1)) + 1u : (uint64_t)value;
    do {
        digits[n++] = (char)('0' + (char)(magnitude % 10u));
        magnitude /= 10u;
    } while (magnitude != 0u && n < sizeof digits);
    if (value < 0) {
        text_add(t, "-");
    }
    while (n > 0u) {
        const char one[2] = {digits[--n], '\0'};
        text_add(t, one);
    }
}

static void error_reply(const hil_frame_t *request, int code, uint32_t detail, const text_t *t)
{
    hil_reply_error(request->seq, request->type, code, detail, t->text);
}

/* ---- model ----------------------------------------------------------------------------------- */

static void tensor_desc(uint8_t *out, const hil_tensor_info_t *info)
{
    memset(out, 0, HIL_TENSOR_DESC_SIZE);
    out[0] = (uint8_t)info->dtype;
    out[1] = info->rank;
    for (uint32_t d = 0; d < HIL_ENGINE_MAX_DIMS; d++) {
        put_u32(out + 4u + 4u * d, d < info->rank ? (uint32_t)info->dims[d] : 0u);
    }
    uint32_t scale_bits;
    memcpy(&scale_bits, &info->scale, sizeof scale_bits);
    put_u32(out + 28, scale_bits);
    put_u32(out + 32, (uint32_t)info->zero_point);
    put_u32(out + 36, info->bytes);
}

static size_t model_desc(uint8_t *out)
{
    memset(out, 0, HIL_MODEL_DESC_SIZE);
    put_u32(out, model.crc32);
    put_u32(out + 4, model.size);
    put_u32(out + 8, model.loaded ? hil_engine_arena_used(&model.engine) : 0u);
    put_u32(out + 12, HIL_ARENA_SIZE);
    out[16] = model.source;
    out[17] = (uint8_t)hil_engine_input_count(&model.engine);
    out[18] = (uint8_t)hil_engine_output_count(&model.engine);
    tensor_desc(out + 20, &model.input);
    tensor_desc(out + 20 + HIL_TENSOR_DESC_SIZE, &model.output);
    return HIL_MODEL_DESC_SIZE;
}

static void drop_model(void)
{
    model.loaded = false;
    model.source = HIL_MODEL_SOURCE_NONE;
    model.bytes = NULL;
    model.size = 0u;
    model.crc32 = 0u;
    memset(&model.engine, 0, sizeof model.engine);
    memset(&model.input, 0, sizeof model.input);
    memset(&model.output, 0, sizeof model.output);
}

/* Loads bytes into the engine. On failure *t names the problem and the code is returned. */
static int install_model(const uint8_t *bytes, uint32_t size, uint8_t source, uint32_t *detail, text_t *t)
{
    drop_model();
    const hil_status status = hil_engine_load(bytes, size, arena, sizeof arena, &model.engine);
    if (status != HIL_OK) {
        const hil_error_t *e = hil_engine_last_error(&model.engine);
        text_add(t, hil_status_name(status));
        text_add(t, " op=");
        text_int(t, e->op_index);
        text_add(t, " tensor=");
        text_int(t, e->tensor_index);
        text_add(t, " detail=");
        text_int(t, e->detail);
        text_add(t, " needed=");
        text_int(t, e->needed);
        text_add(t, " given=");
        text_int(t, e->given);
        *detail = (uint32_t)status;
        memset(&model.engine, 0, sizeof model.engine);
        return HIL_LINK_ERR_MODEL_REJECTED;
    }
    if (hil_engine_input_count(&model.engine) != 1 || hil_engine_output_count(&model.engine) != 1) {
        text_add(t, "pipeline needs 1 input and 1 output tensor");
        *detail = (uint32_t)hil_engine_input_count(&model.engine);
        memset(&model.engine, 0, sizeof model.engine);
        return HIL_LINK_ERR_MODEL_REJECTED;
    }
    if (hil_engine_input_info(&model.engine, 0, &model.input) != HIL_OK ||
        hil_engine_output_info(&model.engine, 0, &model.output) != HIL_OK) {
        text_add(t, "engine has no tensor info");
        *detail = 0u;
        memset(&model.engine, 0, sizeof model.engine);
        return HIL_LINK_ERR_INTERNAL;
    }
    /* a reply carries the input codes and the outputs; a request the input tensor */
    const uint32_t io = model.input.bytes + model.output.bytes;
    if (io + HIL_INFER_REPLY_HEADER_SIZE > HIL_MAX_PAYLOAD) {
        text_add(t, "input+output bytes ");
        text_int(t, io);
        text_add(t, " exceed one reply (max payload ");
        text_int(t, HIL_MAX_PAYLOAD);
        text_add(t, ")");
        *detail = io;
        memset(&model.engine, 0, sizeof model.engine);
        return HIL_LINK_ERR_TOO_LARGE;
    }
    model.loaded = true;
    model.source = source;
    model.bytes = bytes;
    model.size = size;
    model.crc32 = hil_crc32(bytes, size);
    return 0;
}

static void handle_load_begin(const hil_frame_t *request)
{
    text_t t = {.len = 0};
    if (request->length != 8u) {
        text_add(&t, "LOAD_BEGIN takes size:u32 crc32:u32");
        error_reply(request, HIL_LINK_ERR_BAD_PAYLOAD, request->length, &t);
        return;
    }
    const uint32_t size = get_u32(request->payload);
    const uint32_t crc = get_u32(request->payload + 4);
    if (size == 0u) {
        text_add(&t, "model size is 0");
        error_reply(request, HIL_LINK_ERR_BAD_PAYLOAD, 0u, &t);
        return;
    }
    if (size > sizeof model_buffer) {
        text_add(&t, "model of ");
        text_int(&t, size);
        text_add(&t, " bytes exceeds the model buffer of ");
        text_int(&t, sizeof model_buffer);
        error_reply(request, HIL_LINK_ERR_TOO_LARGE, (uint32_t)sizeof model_buffer, &t);
        return;
    }
    drop_model();
    upload.active = true;
    upload.size = size;
    upload.crc32 = crc;
    upload.received = 0u;
    upload.running = 0xFFFFFFFFu;
    uint8_t reply[8];
    put_u32(reply, (uint32_t)sizeof model_buffer);
    put_u16(reply + 4, HIL_MAX_PAYLOAD - CHUNK_HEADER);
    put_u16(reply + 6, 0u);
    hil_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply, sizeof reply);
}

static void handle_load_chunk(const hil_frame_t *request)
{
    text_t t = {.len = 0};
    if (!upload.active) {
        text_add(&t, "no model upload in progress (send LOAD_BEGIN)");
        error_reply(request, HIL_LINK_ERR_BAD_STATE, 0u, &t);
        return;
    }
    if (request->length <= CHUNK_HEADER) {
        text_add(&t, "LOAD_CHUNK takes offset:u32 crc32:u32 data");
        error_reply(request, HIL_LINK_ERR_BAD_PAYLOAD, request->length, &t);
        return;
    }
    const uint32_t offset = get_u32(request->payload);
    const uint32_t crc = get_u32(request->payload + 4);
    const uint8_t *data = request->payload + CHUNK_HEADER;
    const uint32_t len = request->length - CHUNK_HEADER;
    if (offset != upload.received) {
        text_add(&t, "chunk at offset ");
        text_int(&t, offset);
        text_add(&t, ", expected ");
        text_int(&t, upload.received);
        error_reply(request, HIL_LINK_ERR_OUT_OF_ORDER, upload.received, &t);
        return;
    }
    if (len > upload.size - upload.received) {
        text_add(&t, "chunk runs past the declared size ");
        text_int(&t, upload.size);
        error_reply(request, HIL_LINK_ERR_TOO_LARGE, upload.size, &t);
        return;
    }
    if (hil_crc32(data, len) != crc) {
        text_add(&t, "chunk CRC mismatch at offset ");
        text_int(&t, offset);
        error_reply(request, HIL_LINK_ERR_BAD_CHUNK_CRC, offset, &t);
        return;
    }
    memcpy(model_buffer + offset, data, len);
    upload.running = hil_crc32_update(upload.running, data, len);
    upload.received += len;
    uint8_t reply[4];
    put_u32(reply, upload.received);
    hil_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply, sizeof reply);
}

static void handle_load_end(const hil_frame_t *request)
{
    text_t t = {.len = 0};
    if (!upload.active) {
        text_add(&t, "no model upload in progress (send LOAD_BEGIN)");
        error_reply(request, HIL_LINK_ERR_BAD_STATE, 0u, &t);
        return;
    }
    upload.active = false; /* whatever happens now, this upload is over */
    if (upload.received != upload.size) {
        text_add(&t, "received ");
        text_int(&t, upload.received);
        text_add(&t, " of ");
        text_int(&t, upload.size);
        text_add(&t, " model bytes");
        error_reply(request, HIL_LINK_ERR_BAD_STATE, upload.received, &t);
        return;
    }
    const uint32_t crc = upload.running ^ 0xFFFFFFFFu;
    if (crc != upload.crc32) {
        text_add(&t, "model CRC mismatch: declared ");
        text_int(&t, upload.crc32);
        text_add(&t, ", computed ");
        text_int(&t, crc);
        error_reply(request, HIL_LINK_ERR_BAD_MODEL_CRC, crc, &t);
        return;
    }
    uint32_t detail = 0u;
    const int code = install_model(model_buffer, upload.size, HIL_MODEL_SOURCE_UPLOADED, &detail, &t);
    if (code != 0) {
        error_reply(request, code, detail, &t);
        return;
    }
    uint8_t reply[HIL_MODEL_DESC_SIZE];
    hil_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply, model_desc(reply));
}

static void handle_model_info(const hil_frame_t *request)
{
    text_t t = {.len = 0};
    if (!model.loaded) {
        text_add(&t, "no model loaded");
        error_reply(request, HIL_LINK_ERR_BAD_STATE, 0u, &t);
        return;
    }
    uint8_t reply[HIL_MODEL_DESC_SIZE];
    hil_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply, model_desc(reply));
}

/* ---- preprocessing ------------------------------------------------------------------------- */

static void prep_reset(void)
{
    memset(&prep, 0, sizeof prep);
}

/* "channel 2: <what>" */
static void prep_error(const hil_frame_t *request, uint32_t channel, const char *what)
{
    text_t t = {.len = 0};
    text_add(&t, "channel ");
    text_int(&t, channel);
    text_add(&t, ": ");
    text_add(&t, what);
    prep_reset(); /* a refused configuration leaves none, never half of one */
    error_reply(request, HIL_LINK_ERR_BAD_PREPROCESS, channel, &t);
}

/* Parses one record at p (avail bytes). Returns its size, or 0 after replying with an error. */
static size_t parse_affine(const hil_frame_t *request, const uint8_t *p, size_t avail, uint32_t index)
{
    if (avail < HIL_AFFINE_RECORD_SIZE) {
        prep_error(request, index, "affine record truncated");
        return 0u;
    }
    hil_preprocess_channel_t *c = &prep.channels[index];
    c->kind = HIL_CHANNEL_AFFINE;
    c->source_axis = p[0];
    c->map.affine.shift = p[1];
    c->map.affine.code_min = (int8_t)p[2];
    c->map.affine.code_max = (int8_t)p[3];
    c->map.affine.multiplier = get_i32(p + 4);
    c->map.affine.offset = get_i64(p + 8);
    c->map.affine.zero_point = get_i32(p + 16);
    const hil_affine_channel_t *a = &c->map.affine;
    if (a->multiplier == 0) {
        prep_error(request, index, "zero range (multiplier 0: every count gives one code)");
        return 0u;
    }
    if (a->code_min >= a->code_max) {
        prep_error(request, index, "zero range (code_min >= code_max)");
        return 0u;
    }
    if (a->shift < 1 || a->shift > 62) {
        prep_error(request, index, "shift out of range 1..62");
        return 0u;
    }
    if (a->offset >= ((int64_t)1 << 61) || a->offset <= -((int64_t)1 << 61)) {
        prep_error(request, index, "offset out of range |offset| < 2^61");
        return 0u;
    }
    if (a->zero_point < -128 || a->zero_point > 127) {
        prep_error(request, index, "zero_point outside int8");
        return 0u;
    }
    return HIL_AFFINE_RECORD_SIZE;
}

static size_t parse_threshold(const hil_frame_t *request, const uint8_t *p, size_t avail, uint32_t index)
{
    if (avail < HIL_THRESHOLD_RECORD_HEADER_SIZE) {
        prep_error(request, index, "threshold record truncated");
        return 0u;
    }
    const uint32_t n = get_u16(p + 4);
    const size_t size = HIL_THRESHOLD_RECORD_HEADER_SIZE + 4u * (size_t)n;
    if (n > HIL_PREPROCESS_THRESHOLDS || avail < size) {
        prep_error(request, index, n > HIL_PREPROCESS_THRESHOLDS ? "more than 255 thresholds"
                                                                 : "threshold record truncated");
        return 0u;
    }
    if (n > HIL_PIPELINE_THRESHOLD_POOL - prep.thresholds_used) {
        prep_error(request, index, "threshold tables exceed the device's pool");
        return 0u;
    }
    hil_preprocess_channel_t *c = &prep.channels[index];
    int32_t *table = &prep.thresholds[prep.thresholds_used];
    for (uint32_t k = 0; k < n; k++) {
        table[k] = get_i32(p + HIL_THRESHOLD_RECORD_HEADER_SIZE + 4u * k);
    }
    c->kind = HIL_CHANNEL_THRESHOLD;
    c->source_axis = p[0];
    c->map.threshold.code_base = (int16_t)get_u16(p + 2);
    c->map.threshold.n_thresholds = n;
    c->map.threshold.thresholds = table;
    if (n == 0u || table[0] == table[n - 1u]) {
        prep_error(request, index, "zero range (all thresholds equal: one step or none)");
        return 0u;
    }
    prep.thresholds_used += n;
    return size;
}

/* The model input's channel count (its last dimension), or 0 without a model. */
static uint32_t model_channels(void)
{
    return (model.loaded && model.input.rank > 0u) ? (uint32_t)model.input.dims[model.input.rank - 1u] : 0u;
}

static void handle_set_preprocess(const hil_frame_t *request)
{
    text_t t = {.len = 0};
    if (request->length < HIL_PREPROCESS_HEADER_SIZE) {
        text_add(&t, "SET_PREPROCESS takes kind n_channels n_axes first count reserved:3 records");
        prep_reset();
        error_reply(request, HIL_LINK_ERR_BAD_PAYLOAD, request->length, &t);
        return;
    }
    const uint8_t *p = request->payload;
    const uint8_t kind = p[0], n_channels = p[1], n_axes = p[2], first = p[3], count = p[4];
    if (kind != HIL_PREPROCESS_KIND_AFFINE && kind != HIL_PREPROCESS_KIND_THRESHOLD) {
        text_add(&t, "unknown preprocessing kind ");
        text_int(&t, kind);
        prep_reset();
        error_reply(request, HIL_LINK_ERR_BAD_PREPROCESS, kind, &t);
        return;
    }
    if (n_channels == 0u || n_channels > HIL_PIPELINE_MAX_CHANNELS || n_axes == 0u ||
        n_axes > HIL_PIPELINE_MAX_AXES) {
        text_add(&t, "channels must be 1..");
        text_int(&t, HIL_PIPELINE_MAX_CHANNELS);
        text_add(&t, " and axes 1..");
        text_int(&t, HIL_PIPELINE_MAX_AXES);
        prep_reset();
        error_reply(request, HIL_LINK_ERR_BAD_PREPROCESS, n_channels, &t);
        return;
    }
    const uint32_t wanted = model_channels();
    if (wanted != 0u && wanted != n_channels) {
        text_add(&t, "channel count mismatch: preprocess has ");
        text_int(&t, n_channels);
        text_add(&t, ", model input wants ");
        text_int(&t, wanted);
        prep_reset();
        error_reply(request, HIL_LINK_ERR_BAD_PREPROCESS, wanted, &t);
        return;
    }
    if (first == 0u) {
        prep_reset();
        prep.kind = kind;
        prep.n_channels = n_channels;
        prep.n_axes = n_axes;
    } else if (prep.ready || first != prep.received || kind != prep.kind || n_channels != prep.n_channels ||
               n_axes != prep.n_axes) {
        text_add(&t, "records out of order: got first=");
        text_int(&t, first);
        text_add(&t, ", expected ");
        text_int(&t, prep.ready ? 0 : prep.received);
        prep_reset();
        error_reply(request, HIL_LINK_ERR_OUT_OF_ORDER, prep.received, &t);
        return;
    }
    if (count == 0u || (uint32_t)first + count > n_channels) {
        text_add(&t, "record count does not fit the channel count");
        prep_reset();
        error_reply(request, HIL_LINK_ERR_BAD_PREPROCESS, count, &t);
        return;
    }
    size_t at = HIL_PREPROCESS_HEADER_SIZE;
    for (uint32_t j = first; j < (uint32_t)first + count; j++) {
        const size_t used = kind == HIL_PREPROCESS_KIND_AFFINE
                                ? parse_affine(request, p + at, request->length - at, j)
                                : parse_threshold(request, p + at, request->length - at, j);
        if (used == 0u) {
            return; /* replied */
        }
        if (prep.channels[j].source_axis >= n_axes) {
            prep_error(request, j, "source axis out of range");
            return;
        }
        at += used;
    }
    if (at != request->length) {
        text_add(&t, "bytes after the last record");
        prep_reset();
        error_reply(request, HIL_LINK_ERR_BAD_PAYLOAD, request->length, &t);
        return;
    }
    prep.received = (uint8_t)(first + count);
    if (prep.received == prep.n_channels) {
        if (hil_preprocess_check(prep.channels, prep.n_channels, prep.n_axes) != HIL_PREPROCESS_OK) {
            prep_error(request, 0u, "rejected by hil_preprocess_check");
            return;
        }
        prep.ready = true;
    }
    const uint8_t reply[4] = {prep.received, prep.n_channels, prep.ready ? 1u : 0u, 0u};
    hil_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply, sizeof reply);
}

/* ---- inference ------------------------------------------------------------------------------- */

static bool require_model(const hil_frame_t *request)
{
    if (model.loaded) {
        return true;
    }
    text_t t = {.len = 0};
    text_add(&t, "no model loaded");
    error_reply(request, HIL_LINK_ERR_BAD_STATE, 0u, &t);
    return false;
}

/* Input codes are already in the input tensor and in reply_buffer; run and reply. */
static void invoke_and_reply(const hil_frame_t *request, uint8_t flags)
{
    const bool exclusive = (flags & HIL_INFER_FLAG_EXCLUSIVE) != 0u;
    if (exclusive) {
        hil_irq_disable(); /* RX bytes wait in the UART: lossless on emulators, see docs */
    }
    const uint32_t start = board_cost_counter();
    const hil_status status = hil_engine_invoke(&model.engine);
    const uint32_t cost = board_cost_counter() - start;
    if (exclusive) {
        hil_irq_enable();
    }
    if (status != HIL_OK) {
        text_t t = {.len = 0};
        text_add(&t, "invoke failed: ");
        text_add(&t, hil_status_name(status));
        error_reply(request, HIL_LINK_ERR_INVOKE_FAILED, (uint32_t)status, &t);
        return;
    }
    const uint32_t in_len = model.input.bytes, out_len = model.output.bytes;
    uint8_t *out = reply_buffer + HIL_INFER_REPLY_HEADER_SIZE + in_len;
    if (hil_engine_get_output(&model.engine, 0, out, out_len) != HIL_OK) {
        text_t t = {.len = 0};
        text_add(&t, "cannot read the output tensor");
        error_reply(request, HIL_LINK_ERR_INTERNAL, 0u, &t);
        return;
    }
    put_u32(reply_buffer, cost);
    put_u16(reply_buffer + 4, in_len);
    put_u16(reply_buffer + 6, out_len);
    hil_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply_buffer,
              HIL_INFER_REPLY_HEADER_SIZE + in_len + out_len);
}

static void handle_infer_window(const hil_frame_t *request)
{
    text_t t = {.len = 0};
    if (!require_model(request)) {
        return;
    }
    if (!prep.ready) {
        text_add(&t, "no preprocessing configured (send SET_PREPROCESS)");
        error_reply(request, HIL_LINK_ERR_BAD_STATE, 0u, &t);
        return;
    }
    if (model.input.dtype != HIL_DTYPE_INT8) {
        text_add(&t, "model input is not int8 (type ");
        text_int(&t, model.input.dtype);
        text_add(&t, "); use INFER_CODES");
        error_reply(request, HIL_LINK_ERR_SHAPE_MISMATCH, (uint32_t)model.input.dtype, &t);
        return;
    }
    const uint32_t wanted = model_channels();
    if (wanted != prep.n_channels) {
        text_add(&t, "channel count mismatch: preprocess has ");
        text_int(&t, prep.n_channels);
        text_add(&t, ", model input wants ");
        text_int(&t, wanted);
        error_reply(request, HIL_LINK_ERR_SHAPE_MISMATCH, wanted, &t);
        return;
    }
    if (request->length < HIL_INFER_HEADER_SIZE) {
        text_add(&t, "INFER_WINDOW takes flags n_axes n_samples:u16 counts");
        error_reply(request, HIL_LINK_ERR_BAD_PAYLOAD, request->length, &t);
        return;
    }
    const uint8_t flags = request->payload[0];
    const uint32_t n_axes = request->payload[1];
    const uint32_t n_samples = get_u16(request->payload + 2);
    const uint32_t samples_wanted = model.input.bytes / prep.n_channels;
    if (n_axes != prep.n_axes) {
        text_add(&t, "window has ");
        text_int(&t, n_axes);
        text_add(&t, " axes, preprocessing reads ");
        text_int(&t, prep.n_axes);
        error_reply(request, HIL_LINK_ERR_SHAPE_MISMATCH, prep.n_axes, &t);
        return;
    }
    if (n_samples != samples_wanted) {
        text_add(&t, "window has ");
        text_int(&t, n_samples);
        text_add(&t, " samples, model wants ");
        text_int(&t, samples_wanted);
        error_reply(request, HIL_LINK_ERR_SHAPE_MISMATCH, samples_wanted, &t);
        return;
    }
    if (request->length != HIL_INFER_HEADER_SIZE + 2u * n_axes * n_samples) {
        text_add(&t, "payload is not n_samples x n_axes int16 counts (");
        text_int(&t, request->length - HIL_INFER_HEADER_SIZE);
        text_add(&t, " bytes)");
        error_reply(request, HIL_LINK_ERR_BAD_PAYLOAD, request->length, &t);
        return;
    }
    /* the counts arrive little-endian and unaligned in the frame buffer: the Cortex-M4 is
     * little-endian, so copy them to an aligned, typed place first (the reply buffer's tail) */
    int8_t *codes = (int8_t *)(reply_buffer + HIL_INFER_REPLY_HEADER_SIZE);
    static int16_t counts[HIL_MAX_PAYLOAD / 2u];
    memcpy(counts, request->payload + HIL_INFER_HEADER_SIZE, 2u * n_axes * n_samples);
    const int rc = hil_preprocess_window(prep.channels, prep.n_channels, counts, n_samples, n_axes, codes,
                                         model.input.bytes);
    if (rc != HIL_PREPROCESS_OK) {
        text_add(&t, "preprocessing failed");
        error_reply(request, HIL_LINK_ERR_INTERNAL, (uint32_t)(-rc), &t);
        return;
    }
    if (hil_engine_set_input(&model.engine, 0, codes, model.input.bytes) != HIL_OK) {
        text_add(&t, "cannot write the input tensor");
        error_reply(request, HIL_LINK_ERR_INTERNAL, 0u, &t);
        return;
    }
    invoke_and_reply(request, flags);
}

static void handle_infer_codes(const hil_frame_t *request)
{
    text_t t = {.len = 0};
    if (!require_model(request)) {
        return;
    }
    if (request->length != HIL_INFER_HEADER_SIZE + model.input.bytes) {
        text_add(&t, "input tensor is ");
        text_int(&t, model.input.bytes);
        text_add(&t, " bytes, request carries ");
        text_int(&t, request->length < HIL_INFER_HEADER_SIZE ? 0 : request->length - HIL_INFER_HEADER_SIZE);
        error_reply(request, HIL_LINK_ERR_SHAPE_MISMATCH, model.input.bytes, &t);
        return;
    }
    uint8_t *codes = reply_buffer + HIL_INFER_REPLY_HEADER_SIZE;
    memcpy(codes, request->payload + HIL_INFER_HEADER_SIZE, model.input.bytes);
    if (hil_engine_set_input(&model.engine, 0, codes, model.input.bytes) != HIL_OK) {
        text_add(&t, "cannot write the input tensor");
        error_reply(request, HIL_LINK_ERR_INTERNAL, 0u, &t);
        return;
    }
    invoke_and_reply(request, request->payload[0]);
}

/* ---- INFO extension and setup ------------------------------------------------------------ */

static size_t tlv_u32(uint8_t *out, uint8_t tag, uint32_t value)
{
    out[0] = tag;
    out[1] = 4u;
    put_u32(out + 2, value);
    return 6u;
}

static size_t info_extension(uint8_t *out, size_t cap)
{
    static const char *const sources[] = {"none", "linked", "uploaded"};
    const char *source = sources[model.source <= HIL_MODEL_SOURCE_UPLOADED ? model.source : 0u];
    const size_t source_len = strlen(source);
    if (cap < 5u * 6u + 2u + source_len + 3u) {
        return 0u;
    }
    size_t len = 0;
    len += tlv_u32(out + len, HIL_TAG_MODEL_CRC32, model.crc32);
    len += tlv_u32(out + len, HIL_TAG_MODEL_BYTES, model.size);
    len += tlv_u32(out + len, HIL_TAG_MODEL_BUFFER, (uint32_t)sizeof model_buffer);
    len += tlv_u32(out + len, HIL_TAG_ARENA_USED, model.loaded ? hil_engine_arena_used(&model.engine) : 0u);
    len += tlv_u32(out + len, HIL_TAG_ARENA_SIZE, (uint32_t)sizeof arena);
    out[len++] = HIL_TAG_MODEL_SOURCE;
    out[len++] = (uint8_t)source_len;
    memcpy(out + len, source, source_len);
    len += source_len;
    out[len++] = HIL_TAG_PREPROCESS_CHANNELS;
    out[len++] = 1u;
    out[len++] = prep.ready ? prep.n_channels : 0u;
    return len;
}

int hil_app_setup(void)
{
    static const struct {
        uint8_t type;
        hil_handler_fn handler;
    } handlers[] = {
        {HIL_MSG_SET_PREPROCESS, handle_set_preprocess}, {HIL_MSG_LOAD_BEGIN, handle_load_begin},
        {HIL_MSG_LOAD_CHUNK, handle_load_chunk},         {HIL_MSG_LOAD_END, handle_load_end},
        {HIL_MSG_MODEL_INFO, handle_model_info},         {HIL_MSG_INFER_WINDOW, handle_infer_window},
        {HIL_MSG_INFER_CODES, handle_infer_codes},
    };
    drop_model();
    prep_reset();
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (hil_dispatch_register(handlers[i].type, handlers[i].handler) != 0) {
            return -1;
        }
    }
    hil_dispatch_set_info_extension(info_extension);
#ifdef HIL_LINKED_MODEL_PATH
    text_t t = {.len = 0};
    uint32_t detail = 0u;
    const uint32_t size = (uint32_t)(hil_linked_model_end - hil_linked_model);
    if (install_model(hil_linked_model, size, HIL_MODEL_SOURCE_LINKED, &detail, &t) != 0) {
        return -2; /* BOOT then says "app setup failed"; INFO shows no model */
    }
#endif
    return 0;
}
