/*
 * The portable engine behind hil/engine.h: load (parse + validate + prepare + plan) and invoke.
 *
 * Arena layout, from the first 16-byte aligned address:
 *   pe_state | tensor table | operator table | per-channel multipliers | planned activations
 * Activations are placed by a greedy planner (largest first, lowest offset that does not
 * collide with a tensor whose lifetime overlaps), as TFLM's GreedyMemoryPlanner does.
 */
#include <string.h>

#include "hil/engine.h"
#include "pe_internal.h"

#define PE_UNDEFINED (-2)

static uint32_t pe_align_up(uint32_t x)
{
    return (x + (PE_ALIGN - 1u)) & ~(PE_ALIGN - 1u);
}

static hil_status pe_error(hil_engine_t *e, hil_status status, int op_index, int tensor_index,
                           int32_t detail)
{
    if (e->error.status == HIL_OK) {
        e->error.status = status;
        e->error.op_index = op_index;
        e->error.tensor_index = tensor_index;
        e->error.detail = detail;
    }
    return e->error.status;
}

static hil_status pe_fb_error(hil_engine_t *e, const fb_ctx *fb, int op_index, int tensor_index)
{
    return pe_error(e, fb->status, op_index, tensor_index, (int32_t)fb->bad_at);
}

typedef struct {
    fb_vec opcodes;
    fb_vec buffers;
    fb_vec tensors;
    fb_vec inputs;
    fb_vec outputs;
    fb_vec ops;
} pe_model_view;

static int pe_supported(int32_t code)
{
    switch (code) {
    case PE_OP_ADD: case PE_OP_AVERAGE_POOL_2D: case PE_OP_CONV_2D: case PE_OP_DEPTHWISE_CONV_2D:
    case PE_OP_DEQUANTIZE: case PE_OP_FULLY_CONNECTED: case PE_OP_MAX_POOL_2D: case PE_OP_RESHAPE:
    case PE_OP_SOFTMAX: case PE_OP_MEAN: case PE_OP_SQUEEZE: case PE_OP_EXPAND_DIMS: case PE_OP_QUANTIZE:
        return 1;
    default:
        return 0;
    }
}

/* max(deprecated_builtin_code, builtin_code), as TFLite's GetBuiltinCode. */
static int32_t pe_builtin_code(fb_ctx *fb, const fb_table *code_table)
{
    const int32_t deprecated = fb_i8(fb, code_table, 0, 0);
    const int32_t code = fb_i32(fb, code_table, 3, 0);
    return code > deprecated ? code : deprecated;
}

/* Bytes of per-channel tables the operators will need; only sizes the arena, so a broken
 * model simply contributes 0 here and is rejected by the real pass. */
static uint32_t pe_measure_persist(const fb_ctx *model_fb, const pe_model_view *v)
{
    fb_ctx fb = *model_fb;
    uint64_t bytes = 0;
    for (uint32_t k = 0; k < v->ops.count && fb.status == HIL_OK; ++k) {
        fb_table op, code_table, tensor;
        fb_vec inputs, shape;
        if (!fb_vec_table(&fb, &v->ops, k, &op)) {
            break;
        }
        const uint32_t opcode_index = fb_u32(&fb, &op, 0, 0);
        if (opcode_index >= v->opcodes.count || !fb_vec_table(&fb, &v->opcodes, opcode_index, &code_table)) {
            break;
        }
        const int32_t code = pe_builtin_code(&fb, &code_table);
        if (code != PE_OP_CONV_2D && code != PE_OP_DEPTHWISE_CONV_2D && code != PE_OP_FULLY_CONNECTED) {
            continue;
        }
        if (!fb_vector(&fb, &op, 1, 4, &inputs) || inputs.count < 2) {
            break;
        }
        const int32_t filter = fb_vec_i32(&fb, &inputs, 1);
        if (filter < 0 || (uint32_t)filter >= v->tensors.count ||
            !fb_vec_table(&fb, &v->tensors, (uint32_t)filter, &tensor) ||
            !fb_vector(&fb, &tensor, 0, 4, &shape) || shape.count < 2) {
            break;
        }
        const uint32_t qdim = code == PE_OP_DEPTHWISE_CONV_2D ? shape.count - 1u : 0u;
        const int32_t channels = fb_vec_i32(&fb, &shape, qdim);
        if (channels > 0 && channels <= (1 << 20)) {
            bytes += 8u * (uint64_t)channels;
        }
    }
    return bytes > 0x40000000u ? 0x40000000u : (uint32_t)bytes;
}

static hil_status pe_parse_tensors(hil_engine_t *e, fb_ctx *fb, const pe_model_view *v, pe_state *s)
{
    for (uint32_t i = 0; i < s->n_tensors; ++i) {
        pe_tensor *t = &s->tensors[i];
        fb_table tt, quant, buffer;
        fb_vec shape, data, scales, zero_points;
        memset(t, 0, sizeof *t);
        t->first_op = PE_UNDEFINED;
        t->last_op = PE_UNDEFINED;
        if (!fb_vec_table(fb, &v->tensors, i, &tt)) {
            return pe_fb_error(e, fb, -1, (int)i);
        }
        t->type = (uint8_t)fb_i8(fb, &tt, 1, 0);
        fb_vector(fb, &tt, 0, 4, &shape);
        const uint32_t buffer_index = fb_u32(fb, &tt, 2, 0);
        const int has_quant = fb_subtable(fb, &tt, 4, &quant);
        if (fb->status != HIL_OK) {
            return pe_fb_error(e, fb, -1, (int)i);
        }
        if (shape.count > PE_MAX_DIMS) {
            return pe_error(e, HIL_ERR_LIMIT, -1, (int)i, (int32_t)shape.count);
        }
        t->rank = (uint8_t)shape.count;
        uint64_t elements = 1;
        for (uint32_t d = 0; d < shape.count; ++d) {
            t->dims[d] = fb_vec_i32(fb, &shape, d);
            if (t->dims[d] < 1) {
                return pe_error(e, HIL_ERR_BAD_MODEL, -1, (int)i, t->dims[d]);
            }
            elements *= (uint64_t)t->dims[d];
            if (elements > (1u << 28)) {
                return pe_error(e, HIL_ERR_LIMIT, -1, (int)i, t->dims[d]);
            }
        }
        uint32_t element_size = 0;
        switch (t->type) {
        case PE_TYPE_INT8: element_size = 1; break;
        case PE_TYPE_INT32: element_size = 4; break;
        case PE_TYPE_FLOAT32: element_size = 4; break;
        default: return pe_error(e, HIL_ERR_UNSUPPORTED_TYPE, -1, (int)i, t->type);
        }
        t->elements = (uint32_t)elements;
        t->bytes = t->elements * element_size;
        if (buffer_index != 0) {
            if (buffer_index >= v->buffers.count) {
                return pe_error(e, HIL_ERR_BAD_MODEL, -1, (int)i, (int32_t)buffer_index);
            }
            if (!fb_vec_table(fb, &v->buffers, buffer_index, &buffer)) {
                return pe_fb_error(e, fb, -1, (int)i);
            }
            fb_vector(fb, &buffer, 0, 1, &data);
            const uint32_t external_offset = fb_u32(fb, &buffer, 1, 0);
            if (fb->status != HIL_OK) {
                return pe_fb_error(e, fb, -1, (int)i);
            }
            if (external_offset > 1) { /* data outside the flatbuffer (models > 2 GB) */
                return pe_error(e, HIL_ERR_BAD_MODEL, -1, (int)i, (int32_t)external_offset);
            }
            if (data.count != 0) {
                if (data.count != t->bytes) {
                    return pe_error(e, HIL_ERR_BAD_MODEL, -1, (int)i, (int32_t)data.count);
                }
                t->is_const = 1;
                t->data = (uint8_t *)(uintptr_t)(fb->buf + data.pos);
            }
        }
        if (has_quant) {
            fb_vector(fb, &quant, 2, 4, &scales);
            fb_vector(fb, &quant, 3, 8, &zero_points);
            t->quantized_dim = fb_i32(fb, &quant, 6, 0);
            if (fb->status != HIL_OK) {
                return pe_fb_error(e, fb, -1, (int)i);
            }
            /* TFLM treats a tensor as quantized only when both vectors are non-empty. */
            if (scales.count > 0 && zero_points.count > 0) {
                for (uint32_t c = 0; c < scales.count; ++c) {
                    const float sc = fb_vec_f32(fb, &scales, c);
                    if (!(sc > 0.0f && sc <= 3.4e38f)) {
                        return pe_error(e, HIL_ERR_BAD_QUANTIZATION, -1, (int)i, (int32_t)c);
                    }
                }
                const int64_t zp = fb_vec_i64(fb, &zero_points, 0);
                if (t->type == PE_TYPE_INT8 && (zp < -128 || zp > 127)) {
                    return pe_error(e, HIL_ERR_BAD_QUANTIZATION, -1, (int)i, (int32_t)zp);
                }
                if (scales.count > 1 && (t->quantized_dim < 0 || t->quantized_dim >= t->rank)) {
                    return pe_error(e, HIL_ERR_BAD_QUANTIZATION, -1, (int)i, t->quantized_dim);
                }
                t->quantized = 1;
                t->scales = fb->buf + scales.pos;
                t->n_scales = scales.count;
                t->scale = fb_vec_f32(fb, &scales, 0);
                t->zero_point = (int32_t)zp;
            }
        }
    }
    return HIL_OK;
}

static hil_status pe_parse_io(hil_engine_t *e, fb_ctx *fb, const fb_vec *vec, pe_state *s, int is_input)
{
    int16_t *list = is_input ? s->inputs : s->outputs;
    if (vec->count < 1 || vec->count > HIL_ENGINE_MAX_IO) {
        return pe_error(e, HIL_ERR_LIMIT, -1, -1, (int32_t)vec->count);
    }
    for (uint32_t i = 0; i < vec->count; ++i) {
        const int32_t index = fb_vec_i32(fb, vec, i);
        if (index < 0 || (uint32_t)index >= s->n_tensors) {
            return pe_error(e, HIL_ERR_BAD_MODEL, -1, index, (int32_t)i);
        }
        pe_tensor *t = &s->tensors[index];
        if (t->is_const || (is_input && t->is_input)) {
            return pe_error(e, HIL_ERR_BAD_MODEL, -1, index, (int32_t)i);
        }
        if (t->type != PE_TYPE_INT8 && t->type != PE_TYPE_FLOAT32) {
            return pe_error(e, HIL_ERR_UNSUPPORTED_TYPE, -1, index, t->type);
        }
        if (is_input) {
            t->is_input = 1;
            t->first_op = -1;
            t->last_op = -1;
        }
        list[i] = (int16_t)index;
    }
    if (is_input) {
        s->n_inputs = (uint8_t)vec->count;
    } else {
        s->n_outputs = (uint8_t)vec->count;
    }
    return HIL_OK;
}

/* Options table type each op expects (BuiltinOptions union). */
static uint8_t pe_options_type(int32_t code)
{
    switch (code) {
    case PE_OP_CONV_2D: return 1;
    case PE_OP_DEPTHWISE_CONV_2D: return 2;
    case PE_OP_AVERAGE_POOL_2D: case PE_OP_MAX_POOL_2D: return 5;
    case PE_OP_FULLY_CONNECTED: return 8;
    case PE_OP_SOFTMAX: return 9;
    case PE_OP_ADD: return 11;
    case PE_OP_MEAN: return 27;
    default: return 0;
    }
}

static void pe_parse_options(fb_ctx *fb, const fb_table *op_table, int32_t code, pe_options *o)
{
    fb_table t;
    memset(o, 0, sizeof *o);
    o->dilation_w = 1;
    o->dilation_h = 1;
    const uint8_t type = fb_u8(fb, op_table, 3, 0);
    if (type == 0 || type != pe_options_type(code) || !fb_subtable(fb, op_table, 4, &t)) {
        return;
    }
    switch (code) {
    case PE_OP_CONV_2D:
        o->padding = fb_i8(fb, &t, 0, 0);
        o->stride_w = fb_i32(fb, &t, 1, 0);
        o->stride_h = fb_i32(fb, &t, 2, 0);
        o->activation = fb_i8(fb, &t, 3, 0);
        o->dilation_w = fb_i32(fb, &t, 4, 1);
        o->dilation_h = fb_i32(fb, &t, 5, 1);
        break;
    case PE_OP_DEPTHWISE_CONV_2D:
        o->padding = fb_i8(fb, &t, 0, 0);
        o->stride_w = fb_i32(fb, &t, 1, 0);
        o->stride_h = fb_i32(fb, &t, 2, 0);
        o->depth_multiplier = fb_i32(fb, &t, 3, 0);
        o->activation = fb_i8(fb, &t, 4, 0);
        o->dilation_w = fb_i32(fb, &t, 5, 1);
        o->dilation_h = fb_i32(fb, &t, 6, 1);
        break;
    case PE_OP_AVERAGE_POOL_2D:
    case PE_OP_MAX_POOL_2D:
        o->padding = fb_i8(fb, &t, 0, 0);
        o->stride_w = fb_i32(fb, &t, 1, 0);
        o->stride_h = fb_i32(fb, &t, 2, 0);
        o->filter_w = fb_i32(fb, &t, 3, 0);
        o->filter_h = fb_i32(fb, &t, 4, 0);
        o->activation = fb_i8(fb, &t, 5, 0);
        break;
    case PE_OP_FULLY_CONNECTED:
        o->activation = fb_i8(fb, &t, 0, 0);
        o->weights_format = fb_i8(fb, &t, 1, 0);
        break;
    case PE_OP_SOFTMAX:
        o->beta = fb_f32(fb, &t, 0, 0.0f);
        break;
    case PE_OP_ADD:
        o->activation = fb_i8(fb, &t, 0, 0);
        break;
    case PE_OP_MEAN:
        o->keep_dims = fb_u8(fb, &t, 0, 0);
        break;
    default:
        break;
    }
}

static hil_status pe_prepare_op(pe_state *s, int k, const pe_options *o)
{
    switch (s->ops[k].code) {
    case PE_OP_CONV_2D: return pe_conv_prepare(s, k, o);
    case PE_OP_DEPTHWISE_CONV_2D: return pe_depthwise_conv_prepare(s, k, o);
    case PE_OP_FULLY_CONNECTED: return pe_fully_connected_prepare(s, k, o);
    case PE_OP_AVERAGE_POOL_2D: case PE_OP_MAX_POOL_2D: return pe_pooling_prepare(s, k, o);
    case PE_OP_MEAN: return pe_mean_prepare(s, k, o);
    case PE_OP_RESHAPE: case PE_OP_SQUEEZE: case PE_OP_EXPAND_DIMS: return pe_reshape_prepare(s, k, o);
    case PE_OP_SOFTMAX: return pe_softmax_prepare(s, k, o);
    case PE_OP_ADD: return pe_add_prepare(s, k, o);
    case PE_OP_QUANTIZE: return pe_quantize_prepare(s, k, o);
    case PE_OP_DEQUANTIZE: return pe_dequantize_prepare(s, k, o);
    default: return pe_fail(s, HIL_ERR_UNSUPPORTED_OP, k, -1, s->ops[k].code);
    }
}

static hil_status pe_parse_ops(hil_engine_t *e, fb_ctx *fb, const pe_model_view *v, pe_state *s)
{
    for (uint32_t k = 0; k < s->n_ops; ++k) {
        pe_op *op = &s->ops[k];
        fb_table ot, code_table;
        fb_vec inputs, outputs;
        pe_options options;
        memset(op, 0, sizeof *op);
        if (!fb_vec_table(fb, &v->ops, k, &ot)) {
            return pe_fb_error(e, fb, (int)k, -1);
        }
        const uint32_t opcode_index = fb_u32(fb, &ot, 0, 0);
        if (fb->status != HIL_OK) {
            return pe_fb_error(e, fb, (int)k, -1);
        }
        if (opcode_index >= v->opcodes.count) {
            return pe_error(e, HIL_ERR_BAD_MODEL, (int)k, -1, (int32_t)opcode_index);
        }
        if (!fb_vec_table(fb, &v->opcodes, opcode_index, &code_table)) {
            return pe_fb_error(e, fb, (int)k, -1);
        }
        const int32_t code = pe_builtin_code(fb, &code_table);
        if (fb->status != HIL_OK) {
            return pe_fb_error(e, fb, (int)k, -1);
        }
        if (!pe_supported(code)) {
            return pe_error(e, HIL_ERR_UNSUPPORTED_OP, (int)k, -1, code);
        }
        op->code = (uint8_t)code;
        fb_vector(fb, &ot, 1, 4, &inputs);
        fb_vector(fb, &ot, 2, 4, &outputs);
        pe_parse_options(fb, &ot, code, &options);
        if (fb->status != HIL_OK) {
            return pe_fb_error(e, fb, (int)k, -1);
        }
        if (inputs.count < 1 || inputs.count > 3 || outputs.count != 1) {
            return pe_error(e, HIL_ERR_BAD_MODEL, (int)k, -1, (int32_t)inputs.count);
        }
        op->n_inputs = (uint8_t)inputs.count;
        for (uint32_t i = 0; i < inputs.count; ++i) {
            const int32_t index = fb_vec_i32(fb, &inputs, i);
            if (index < -1 || index >= (int32_t)s->n_tensors) {
                return pe_error(e, HIL_ERR_BAD_MODEL, (int)k, index, (int32_t)i);
            }
            op->inputs[i] = (int16_t)index;
            if (index < 0) {
                continue;
            }
            pe_tensor *t = &s->tensors[index];
            if (!t->is_const) {
                if (t->first_op == PE_UNDEFINED) { /* read before anything wrote it */
                    return pe_error(e, HIL_ERR_BAD_MODEL, (int)k, index, (int32_t)i);
                }
                t->last_op = (int16_t)k;
            }
        }
        const int32_t out_index = fb_vec_i32(fb, &outputs, 0);
        if (out_index < 0 || out_index >= (int32_t)s->n_tensors) {
            return pe_error(e, HIL_ERR_BAD_MODEL, (int)k, out_index, 0);
        }
        pe_tensor *out = &s->tensors[out_index];
        if (out->is_const || out->first_op != PE_UNDEFINED) { /* constant or written twice */
            return pe_error(e, HIL_ERR_BAD_MODEL, (int)k, out_index, 0);
        }
        out->first_op = (int16_t)k;
        out->last_op = (int16_t)k;
        op->output = (int16_t)out_index;
        const hil_status st = pe_prepare_op(s, (int)k, &options);
        if (st != HIL_OK) {
            return st;
        }
    }
    for (uint32_t i = 0; i < s->n_outputs; ++i) {
        pe_tensor *t = &s->tensors[s->outputs[i]];
        if (t->first_op == PE_UNDEFINED) {
            return pe_error(e, HIL_ERR_BAD_MODEL, -1, s->outputs[i], (int32_t)i);
        }
        t->last_op = (int16_t)s->n_ops;
    }
    return HIL_OK;
}

static int pe_needs_plan(const pe_tensor *t)
{
    return !t->is_const && t->first_op != PE_UNDEFINED;
}

static int pe_lifetimes_overlap(const pe_tensor *a, const pe_tensor *b)
{
    return !(a->last_op < b->first_op || b->last_op < a->first_op);
}

/* Greedy by size: each tensor, largest first, goes to the lowest aligned offset that does not
 * collide with an already placed tensor alive at the same time. Returns bytes needed. */
static uint32_t pe_plan(pe_state *s)
{
    uint32_t high = 0;
    for (;;) {
        int best = -1;
        for (uint32_t i = 0; i < s->n_tensors; ++i) {
            const pe_tensor *t = &s->tensors[i];
            if (pe_needs_plan(t) && !t->placed && (best < 0 || t->bytes > s->tensors[best].bytes)) {
                best = (int)i;
            }
        }
        if (best < 0) {
            break;
        }
        pe_tensor *t = &s->tensors[best];
        uint32_t offset = 0;
        int moved = 1;
        while (moved) {
            moved = 0;
            for (uint32_t j = 0; j < s->n_tensors; ++j) {
                const pe_tensor *other = &s->tensors[j];
                if (!other->placed || !pe_lifetimes_overlap(t, other)) {
                    continue;
                }
                if (offset < other->offset + other->bytes && other->offset < offset + t->bytes) {
                    offset = pe_align_up(other->offset + other->bytes);
                    moved = 1;
                }
            }
        }
        t->offset = offset;
        t->placed = 1;
        if (pe_align_up(offset + t->bytes) > high) {
            high = pe_align_up(offset + t->bytes);
        }
    }
    return high;
}

/* Upper bound of activation bytes straight from the flatbuffer, for ARENA_TOO_SMALL reports
 * when even the tables do not fit. */
static uint32_t pe_activation_upper_bound(const fb_ctx *model_fb, const pe_model_view *v)
{
    fb_ctx fb = *model_fb;
    uint64_t total = 0;
    for (uint32_t i = 0; i < v->tensors.count && fb.status == HIL_OK; ++i) {
        fb_table tt;
        fb_vec shape;
        if (!fb_vec_table(&fb, &v->tensors, i, &tt) || !fb_vector(&fb, &tt, 0, 4, &shape)) {
            break;
        }
        uint64_t bytes = fb_i8(&fb, &tt, 1, 0) == PE_TYPE_INT8 ? 1u : 4u;
        for (uint32_t d = 0; d < shape.count && d < PE_MAX_DIMS; ++d) {
            const int32_t dim = fb_vec_i32(&fb, &shape, d);
            bytes *= dim > 0 ? (uint64_t)dim : 0u;
            bytes = bytes > 0xFFFFFFFFu ? 0xFFFFFFFFu : bytes;
        }
        if (fb_u32(&fb, &tt, 2, 0) == 0) {
            total += pe_align_up((uint32_t)bytes);
        }
    }
    return total > 0x7FFFFFFFu ? 0x7FFFFFFFu : (uint32_t)total;
}

hil_status hil_engine_load(const uint8_t *model, size_t model_len, uint8_t *arena, size_t arena_len,
                           hil_engine_t *out)
{
    if (out == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    memset(out, 0, sizeof *out);
    out->error.op_index = -1;
    out->error.tensor_index = -1;
    if (model == NULL || arena == NULL) {
        return pe_error(out, HIL_ERR_NULL_ARG, -1, -1, 0);
    }
    if (model_len > 0x7FFFFFFFu) {
        return pe_error(out, HIL_ERR_LIMIT, -1, -1, 0);
    }
    if (arena_len > 0x7FFFFFFFu) {
        arena_len = 0x7FFFFFFFu;
    }
    fb_ctx fb;
    fb_table root, subgraph;
    pe_model_view v;
    fb_init(&fb, model, (uint32_t)model_len);
    if (!fb_root(&fb, &root)) {
        return pe_fb_error(out, &fb, -1, -1);
    }
    const uint32_t version = fb_u32(&fb, &root, 0, 0);
    fb_vector(&fb, &root, 1, 4, &v.opcodes);
    fb_vec subgraphs;
    fb_vector(&fb, &root, 2, 4, &subgraphs);
    fb_vector(&fb, &root, 4, 4, &v.buffers);
    if (fb.status != HIL_OK) {
        return pe_fb_error(out, &fb, -1, -1);
    }
    if (version != 3) {
        return pe_error(out, HIL_ERR_BAD_VERSION, -1, -1, (int32_t)version);
    }
    /* Every buffer table must be inside the model, used or not: a cut file is refused even
     * when the cut only hits buffers no operator reads. */
    for (uint32_t i = 0; i < v.buffers.count; ++i) {
        fb_table buffer;
        if (!fb_vec_table(&fb, &v.buffers, i, &buffer)) {
            return pe_fb_error(out, &fb, -1, -1);
        }
    }
    if (subgraphs.count < 1) {
        return pe_error(out, HIL_ERR_BAD_MODEL, -1, -1, 0);
    }
    if (!fb_vec_table(&fb, &subgraphs, 0, &subgraph)) {
        return pe_fb_error(out, &fb, -1, -1);
    }
    fb_vector(&fb, &subgraph, 0, 4, &v.tensors);
    fb_vector(&fb, &subgraph, 1, 4, &v.inputs);
    fb_vector(&fb, &subgraph, 2, 4, &v.outputs);
    fb_vector(&fb, &subgraph, 3, 4, &v.ops);
    if (fb.status != HIL_OK) {
        return pe_fb_error(out, &fb, -1, -1);
    }
    if (v.tensors.count > PE_MAX_TENSORS || v.ops.count > PE_MAX_OPS) {
        return pe_error(out, HIL_ERR_LIMIT, -1, -1, (int32_t)(v.tensors.count > PE_MAX_TENSORS ? v.tensors.count : v.ops.count));
    }
    if (v.ops.count == 0) {
        return pe_error(out, HIL_ERR_BAD_MODEL, -1, -1, 0);
    }

    /* Carve the tables from the arena. */
    const uint32_t lead = (uint32_t)((PE_ALIGN - ((uintptr_t)arena & (PE_ALIGN - 1u))) & (PE_ALIGN - 1u));
    const uint32_t persist_bytes = pe_align_up(pe_measure_persist(&fb, &v));
    const uint32_t meta = pe_align_up((uint32_t)sizeof(pe_state)) +
                          pe_align_up(v.tensors.count * (uint32_t)sizeof(pe_tensor)) +
                          pe_align_up(v.ops.count * (uint32_t)sizeof(pe_op)) + persist_bytes;
    if ((uint64_t)lead + meta > arena_len) {
        out->error.needed = lead + meta + pe_activation_upper_bound(&fb, &v);
        out->error.given = (uint32_t)arena_len;
        return pe_error(out, HIL_ERR_ARENA_TOO_SMALL, -1, -1, 0);
    }
    uint8_t *base = arena + lead;
    pe_state *s = (pe_state *)(void *)base;
    memset(s, 0, sizeof *s);
    s->error = &out->error;
    s->n_tensors = v.tensors.count;
    s->n_ops = v.ops.count;
    s->tensors = (pe_tensor *)(void *)(base + pe_align_up((uint32_t)sizeof(pe_state)));
    s->ops = (pe_op *)(void *)((uint8_t *)s->tensors + pe_align_up(v.tensors.count * (uint32_t)sizeof(pe_tensor)));
    s->persist = (uint8_t *)s->ops + pe_align_up(v.ops.count * (uint32_t)sizeof(pe_op));
    s->persist_left = persist_bytes;
    s->activations = base + meta;

    hil_status st;
    if ((st = pe_parse_tensors(out, &fb, &v, s)) != HIL_OK ||
        (st = pe_parse_io(out, &fb, &v.inputs, s, 1)) != HIL_OK ||
        (st = pe_parse_io(out, &fb, &v.outputs, s, 0)) != HIL_OK ||
        (st = pe_parse_ops(out, &fb, &v, s)) != HIL_OK) {
        return st;
    }
    const uint32_t activation_bytes = pe_plan(s);
    const uint64_t needed = (uint64_t)lead + meta + activation_bytes;
    if (needed > arena_len) {
        out->error.needed = (uint32_t)(needed > 0xFFFFFFFFu ? 0xFFFFFFFFu : needed);
        out->error.given = (uint32_t)arena_len;
        return pe_error(out, HIL_ERR_ARENA_TOO_SMALL, -1, -1, 0);
    }
    for (uint32_t i = 0; i < s->n_tensors; ++i) {
        pe_tensor *t = &s->tensors[i];
        if (t->placed) {
            t->data = s->activations + t->offset;
        }
    }
    s->error = NULL;
    s->magic = PE_MAGIC;
    out->impl = s;
    out->arena_used = (uint32_t)needed;
    return HIL_OK;
}

static pe_state *pe_state_of(const hil_engine_t *engine)
{
    if (engine == NULL || engine->impl == NULL) {
        return NULL;
    }
    pe_state *s = (pe_state *)engine->impl;
    return s->magic == PE_MAGIC ? s : NULL;
}

int hil_engine_input_count(const hil_engine_t *engine)
{
    const pe_state *s = pe_state_of(engine);
    return s ? s->n_inputs : 0;
}

int hil_engine_output_count(const hil_engine_t *engine)
{
    const pe_state *s = pe_state_of(engine);
    return s ? s->n_outputs : 0;
}

static pe_tensor *pe_io_tensor(const hil_engine_t *engine, int index, int is_input)
{
    pe_state *s = pe_state_of(engine);
    if (s == NULL) {
        return NULL;
    }
    const int count = is_input ? s->n_inputs : s->n_outputs;
    if (index < 0 || index >= count) {
        return NULL;
    }
    return &s->tensors[is_input ? s->inputs[index] : s->outputs[index]];
}

static hil_status pe_info(const hil_engine_t *engine, int index, int is_input, hil_tensor_info_t *info)
{
    if (info == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    if (pe_state_of(engine) == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    const pe_tensor *t = pe_io_tensor(engine, index, is_input);
    if (t == NULL) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    memset(info, 0, sizeof *info);
    info->dtype = (hil_dtype)t->type;
    info->rank = t->rank;
    for (uint8_t d = 0; d < t->rank; ++d) {
        info->dims[d] = t->dims[d];
    }
    info->scale = t->quantized ? t->scale : 0.0f;
    info->zero_point = t->quantized ? t->zero_point : 0;
    info->bytes = t->bytes;
    return HIL_OK;
}

hil_status hil_engine_input_info(const hil_engine_t *engine, int index, hil_tensor_info_t *info)
{
    return pe_info(engine, index, 1, info);
}

hil_status hil_engine_output_info(const hil_engine_t *engine, int index, hil_tensor_info_t *info)
{
    return pe_info(engine, index, 0, info);
}

void *hil_engine_input_data(hil_engine_t *engine, int index)
{
    pe_tensor *t = pe_io_tensor(engine, index, 1);
    return t ? t->data : NULL;
}

const void *hil_engine_output_data(const hil_engine_t *engine, int index)
{
    const pe_tensor *t = pe_io_tensor(engine, index, 0);
    return t ? t->data : NULL;
}

hil_status hil_engine_set_input(hil_engine_t *engine, int index, const void *data, size_t len)
{
    if (data == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    if (pe_state_of(engine) == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    pe_tensor *t = pe_io_tensor(engine, index, 1);
    if (t == NULL || len != t->bytes) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    memcpy(t->data, data, len);
    return HIL_OK;
}

hil_status hil_engine_get_output(const hil_engine_t *engine, int index, void *data, size_t len)
{
    if (data == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    if (pe_state_of(engine) == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    const pe_tensor *t = pe_io_tensor(engine, index, 0);
    if (t == NULL || len != t->bytes) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    memcpy(data, t->data, len);
    return HIL_OK;
}

/* Inlined so hil_engine_invoke runs exactly the loop it ran before the per-op entry points. */
static inline __attribute__((always_inline)) hil_status pe_eval_op(const pe_state *s, const pe_op *op)
{
    switch (op->code) {
    case PE_OP_CONV_2D: pe_conv_eval(s, op); break;
    case PE_OP_DEPTHWISE_CONV_2D: pe_depthwise_conv_eval(s, op); break;
    case PE_OP_FULLY_CONNECTED: pe_fully_connected_eval(s, op); break;
    case PE_OP_AVERAGE_POOL_2D: pe_average_pool_eval(s, op); break;
    case PE_OP_MAX_POOL_2D: pe_max_pool_eval(s, op); break;
    case PE_OP_MEAN: pe_mean_eval(s, op); break;
    case PE_OP_RESHAPE: case PE_OP_SQUEEZE: case PE_OP_EXPAND_DIMS: pe_reshape_eval(s, op); break;
    case PE_OP_SOFTMAX: pe_softmax_eval(s, op); break;
    case PE_OP_ADD: pe_add_eval(s, op); break;
    case PE_OP_QUANTIZE: pe_quantize_eval(s, op); break;
    case PE_OP_DEQUANTIZE: pe_dequantize_eval(s, op); break;
    default: return HIL_ERR_INVOKE;
    }
    return HIL_OK;
}

hil_status hil_engine_invoke(hil_engine_t *engine)
{
    const pe_state *s = pe_state_of(engine);
    if (s == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    for (uint32_t k = 0; k < s->n_ops; ++k) {
        const hil_status st = pe_eval_op(s, &s->ops[k]);
        if (st != HIL_OK) {
            return st;
        }
    }
    return HIL_OK;
}

int hil_engine_op_count(const hil_engine_t *engine)
{
    const pe_state *s = pe_state_of(engine);
    return s ? (int)s->n_ops : 0;
}

hil_status hil_engine_op_info(const hil_engine_t *engine, int op_index, hil_op_info_t *info)
{
    if (info == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    const pe_state *s = pe_state_of(engine);
    if (s == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    if (op_index < 0 || (uint32_t)op_index >= s->n_ops) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    const pe_op *op = &s->ops[op_index];
    const pe_tensor *t = pe_out(s, op);
    memset(info, 0, sizeof *info);
    info->code = op->code;
    info->output_index = op->output;
    info->output.dtype = (hil_dtype)t->type;
    info->output.rank = t->rank;
    for (uint8_t d = 0; d < t->rank; ++d) {
        info->output.dims[d] = t->dims[d];
    }
    info->output.scale = t->quantized ? t->scale : 0.0f;
    info->output.zero_point = t->quantized ? t->zero_point : 0;
    info->output.bytes = t->bytes;
    return HIL_OK;
}

const void *hil_engine_op_output_data(const hil_engine_t *engine, int op_index)
{
    const pe_state *s = pe_state_of(engine);
    if (s == NULL || op_index < 0 || (uint32_t)op_index >= s->n_ops) {
        return NULL;
    }
    return pe_out(s, &s->ops[op_index])->data;
}

hil_status hil_engine_invoke_op(hil_engine_t *engine, int op_index)
{
    const pe_state *s = pe_state_of(engine);
    if (s == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    if (op_index < 0 || (uint32_t)op_index >= s->n_ops) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    return pe_eval_op(s, &s->ops[op_index]);
}

uint32_t hil_engine_arena_used(const hil_engine_t *engine)
{
    return engine ? engine->arena_used : 0;
}

const hil_error_t *hil_engine_last_error(const hil_engine_t *engine)
{
    return engine ? &engine->error : NULL;
}

const char *hil_engine_name(void)
{
    return "portable";
}
