/*
 * The preprocessing half of this firmware's port (hil_agent/port.h): the fold preprocessing of
 * src/preprocess/ (hil/preprocess.h), configured by the host with SET_PREPROCESS (a fold export
 * of harness.quant.fold; docs/protocol.md, "Pipeline"). A team's own firmware has its
 * preprocessing built in and needs none of this request: only window_shape and preprocess.
 *
 * Preprocessing is independent of the model; its channel count is checked against the model
 * input whenever both exist, and its code width (kind 1/2: int8 codes, kind 3: int16 codes for a
 * 16x8 model) against the input's type when a window is preprocessed.
 */
#include <stdbool.h>
#include <string.h>

#include "hil/le.h"
#include "hil/pipeline.h"
#include "hil/preprocess.h"
#include "hil_agent/agent.h"
#include "port.h"

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

static bool wide_codes(void)
{
    return prep.kind == HIL_PREPROCESS_KIND_AFFINE16;
}

static void prep_reset(void)
{
    memset(&prep, 0, sizeof prep);
}

static void reply_error(const hil_frame_t *request, int code, uint32_t detail, hil_agent_error_t *e)
{
    hil_agent_error_set(e, code, detail);
    hil_agent_reply_failure(request, e);
}

/* "channel 2: <what>"; a refused configuration leaves none, never half of one */
static void prep_error(const hil_frame_t *request, uint32_t channel, const char *what)
{
    hil_agent_error_t e;
    hil_agent_error_init(&e);
    hil_agent_error_text(&e, "channel ");
    hil_agent_error_int(&e, channel);
    hil_agent_error_text(&e, ": ");
    hil_agent_error_text(&e, what);
    prep_reset();
    reply_error(request, HIL_LINK_ERR_BAD_PREPROCESS, channel, &e);
}

/* Parses one affine record at p (avail bytes): kind 1 (int8 codes, 20 bytes) or, wide, kind 3
 * (int16 codes, 24 bytes: the same fields, codes widened; zero point 0, as TFLite's int16 tensors
 * are symmetric). Returns its size, or 0 after replying with an error. */
static size_t parse_affine(const hil_frame_t *request, const uint8_t *p, size_t avail, uint32_t index, bool wide)
{
    const size_t size = wide ? HIL_AFFINE16_RECORD_SIZE : HIL_AFFINE_RECORD_SIZE;
    if (avail < size) {
        prep_error(request, index, wide ? "affine int16 record truncated" : "affine record truncated");
        return 0u;
    }
    /* axis:u8 shift:u8, then code_min code_max (i8 i8, or reserved:2 i16 i16), multiplier:i32
     * offset:i64 zero_point:i32 */
    const size_t at = wide ? 8u : 4u;
    hil_preprocess_channel_t *c = &prep.channels[index];
    c->kind = HIL_CHANNEL_AFFINE;
    c->source_axis = p[0];
    c->map.affine.shift = p[1];
    c->map.affine.code_min = wide ? (int16_t)hil_le_get_u16(p + 4) : (int8_t)p[2];
    c->map.affine.code_max = wide ? (int16_t)hil_le_get_u16(p + 6) : (int8_t)p[3];
    c->map.affine.multiplier = hil_le_get_i32(p + at);
    c->map.affine.offset = hil_le_get_i64(p + at + 4u);
    c->map.affine.zero_point = hil_le_get_i32(p + at + 12u);
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
    if (wide && a->zero_point != 0) {
        prep_error(request, index, "zero_point of int16 codes must be 0");
        return 0u;
    }
    if (!wide && (a->zero_point < -128 || a->zero_point > 127)) {
        prep_error(request, index, "zero_point outside int8");
        return 0u;
    }
    return size;
}

static size_t parse_threshold(const hil_frame_t *request, const uint8_t *p, size_t avail, uint32_t index)
{
    if (avail < HIL_THRESHOLD_RECORD_HEADER_SIZE) {
        prep_error(request, index, "threshold record truncated");
        return 0u;
    }
    const uint32_t n = hil_le_get_u16(p + 4);
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
        table[k] = hil_le_get_i32(p + HIL_THRESHOLD_RECORD_HEADER_SIZE + 4u * k);
    }
    c->kind = HIL_CHANNEL_THRESHOLD;
    c->source_axis = p[0];
    c->map.threshold.code_base = (int16_t)hil_le_get_u16(p + 2);
    c->map.threshold.n_thresholds = n;
    c->map.threshold.thresholds = table;
    if (n == 0u || table[0] == table[n - 1u]) {
        prep_error(request, index, "zero range (all thresholds equal: one step or none)");
        return 0u;
    }
    prep.thresholds_used += n;
    return size;
}

/* A tensor's channel count (its last dimension), or 0 without a tensor. */
static uint32_t channels_of(const hil_agent_tensor_t *input)
{
    return (input != NULL && input->rank > 0u) ? (uint32_t)input->dims[input->rank - 1u] : 0u;
}

static void handle_set_preprocess(const hil_frame_t *request)
{
    hil_agent_error_t t;
    hil_agent_error_init(&t);
    if (request->length < HIL_PREPROCESS_HEADER_SIZE) {
        hil_agent_error_text(&t, "SET_PREPROCESS takes kind n_channels n_axes first count reserved:3 records");
        prep_reset();
        reply_error(request, HIL_LINK_ERR_BAD_PAYLOAD, request->length, &t);
        return;
    }
    const uint8_t *p = request->payload;
    const uint8_t kind = p[0], n_channels = p[1], n_axes = p[2], first = p[3], count = p[4];
    if (kind != HIL_PREPROCESS_KIND_AFFINE && kind != HIL_PREPROCESS_KIND_THRESHOLD &&
        kind != HIL_PREPROCESS_KIND_AFFINE16) {
        hil_agent_error_text(&t, "unknown preprocessing kind ");
        hil_agent_error_int(&t, kind);
        prep_reset();
        reply_error(request, HIL_LINK_ERR_BAD_PREPROCESS, kind, &t);
        return;
    }
    if (n_channels == 0u || n_channels > HIL_PIPELINE_MAX_CHANNELS || n_axes == 0u ||
        n_axes > HIL_PIPELINE_MAX_AXES) {
        hil_agent_error_text(&t, "channels must be 1..");
        hil_agent_error_int(&t, HIL_PIPELINE_MAX_CHANNELS);
        hil_agent_error_text(&t, " and axes 1..");
        hil_agent_error_int(&t, HIL_PIPELINE_MAX_AXES);
        prep_reset();
        reply_error(request, HIL_LINK_ERR_BAD_PREPROCESS, n_channels, &t);
        return;
    }
    const uint32_t wanted = channels_of(hil_agent_model_input());
    if (wanted != 0u && wanted != n_channels) {
        hil_agent_error_text(&t, "channel count mismatch: preprocess has ");
        hil_agent_error_int(&t, n_channels);
        hil_agent_error_text(&t, ", model input wants ");
        hil_agent_error_int(&t, wanted);
        prep_reset();
        reply_error(request, HIL_LINK_ERR_BAD_PREPROCESS, wanted, &t);
        return;
    }
    if (first == 0u) {
        prep_reset();
        prep.kind = kind;
        prep.n_channels = n_channels;
        prep.n_axes = n_axes;
    } else if (prep.ready || first != prep.received || kind != prep.kind || n_channels != prep.n_channels ||
               n_axes != prep.n_axes) {
        hil_agent_error_text(&t, "records out of order: got first=");
        hil_agent_error_int(&t, first);
        hil_agent_error_text(&t, ", expected ");
        hil_agent_error_int(&t, prep.ready ? 0 : prep.received);
        prep_reset();
        /* detail: prep.received after the reset, i.e. 0 (as the host has always seen it) */
        reply_error(request, HIL_LINK_ERR_OUT_OF_ORDER, prep.received, &t);
        return;
    }
    if (count == 0u || (uint32_t)first + count > n_channels) {
        hil_agent_error_text(&t, "record count does not fit the channel count");
        prep_reset();
        reply_error(request, HIL_LINK_ERR_BAD_PREPROCESS, count, &t);
        return;
    }
    size_t at = HIL_PREPROCESS_HEADER_SIZE;
    for (uint32_t j = first; j < (uint32_t)first + count; j++) {
        const size_t used = kind == HIL_PREPROCESS_KIND_THRESHOLD
                                ? parse_threshold(request, p + at, request->length - at, j)
                                : parse_affine(request, p + at, request->length - at, j,
                                               kind == HIL_PREPROCESS_KIND_AFFINE16);
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
        hil_agent_error_text(&t, "bytes after the last record");
        prep_reset();
        reply_error(request, HIL_LINK_ERR_BAD_PAYLOAD, request->length, &t);
        return;
    }
    prep.received = (uint8_t)(first + count);
    if (prep.received == prep.n_channels) {
        const int checked = wide_codes() ? hil_preprocess_check16(prep.channels, prep.n_channels, prep.n_axes)
                                         : hil_preprocess_check(prep.channels, prep.n_channels, prep.n_axes);
        if (checked != HIL_PREPROCESS_OK) {
            prep_error(request, 0u, "rejected by hil_preprocess_check");
            return;
        }
        prep.ready = true;
    }
    const uint8_t reply[HIL_PREPROCESS_REPLY_SIZE] = {prep.received, prep.n_channels, prep.ready ? 1u : 0u, 0u};
    hil_agent_reply(request->type | HIL_RESPONSE_BIT, request->seq, reply, sizeof reply);
}

static int fold_window_shape(const hil_agent_tensor_t *input, uint32_t *n_axes, uint32_t *n_samples,
                             hil_agent_error_t *error)
{
    if (!prep.ready) {
        hil_agent_error_set(error, HIL_LINK_ERR_BAD_STATE, 0u);
        hil_agent_error_text(error, "no preprocessing configured (send SET_PREPROCESS)");
        return -1;
    }
    const uint8_t wanted_dtype = wide_codes() ? HIL_AGENT_DTYPE_INT16 : HIL_AGENT_DTYPE_INT8;
    if (input->dtype != wanted_dtype) {
        hil_agent_error_set(error, HIL_LINK_ERR_SHAPE_MISMATCH, input->dtype);
        if (input->dtype == HIL_AGENT_DTYPE_INT8 || input->dtype == HIL_AGENT_DTYPE_INT16) {
            hil_agent_error_text(error, wide_codes() ? "preprocessing makes int16 codes, the model input is int8"
                                                     : "preprocessing makes int8 codes, the model input is int16 "
                                                       "(16x8: send an affine int16 fold, kind 3)");
        } else {
            hil_agent_error_text(error, "model input is not int8 or int16 (type ");
            hil_agent_error_int(error, input->dtype);
            hil_agent_error_text(error, "); use INFER_CODES");
        }
        return -1;
    }
    const uint32_t wanted = channels_of(input);
    if (wanted != prep.n_channels) {
        hil_agent_error_set(error, HIL_LINK_ERR_SHAPE_MISMATCH, wanted);
        hil_agent_error_text(error, "channel count mismatch: preprocess has ");
        hil_agent_error_int(error, prep.n_channels);
        hil_agent_error_text(error, ", model input wants ");
        hil_agent_error_int(error, wanted);
        return -1;
    }
    *n_axes = prep.n_axes;
    *n_samples = input->bytes / (wide_codes() ? 2u : 1u) / prep.n_channels;
    return 0;
}

static int fold_preprocess(const int16_t *counts, uint32_t n_samples, uint32_t n_axes,
                           const hil_agent_tensor_t *input, hil_agent_error_t *error)
{
    /* the engine's input tensor is aligned for its type (int16_t for a 16x8 model) */
    const int rc = wide_codes()
                       ? hil_preprocess_window16(prep.channels, prep.n_channels, counts, n_samples, n_axes,
                                                 (int16_t *)input->data, input->bytes / 2u)
                       : hil_preprocess_window(prep.channels, prep.n_channels, counts, n_samples, n_axes,
                                               (int8_t *)input->data, input->bytes);
    if (rc != HIL_PREPROCESS_OK) {
        hil_agent_error_set(error, HIL_LINK_ERR_INTERNAL, (uint32_t)(-rc));
        hil_agent_error_text(error, "preprocessing failed");
        return -1;
    }
    return 0;
}

static size_t fold_info_extension(uint8_t *out, size_t cap)
{
    if (cap < 3u) {
        return 0u;
    }
    out[0] = HIL_TAG_PREPROCESS_CHANNELS;
    out[1] = 1u;
    out[2] = prep.ready ? prep.n_channels : 0u;
    return 3u;
}

static const hil_agent_request_t requests[] = {
    {HIL_MSG_SET_PREPROCESS, handle_set_preprocess},
};

int hil_port_preprocess_setup(hil_agent_port_t *port)
{
    prep_reset();
    port->window_shape = fold_window_shape;
    port->preprocess = fold_preprocess;
    port->requests = requests;
    port->n_requests = sizeof requests / sizeof requests[0];
    port->info_extension = fold_info_extension;
    port->extra_capabilities |= HIL_AGENT_CAP_SET_PREPROCESS;
    return 0;
}
