/*
 * The loader, as TFLM's MicroAllocator: hil_engine_load reads the model (bounds-checked by
 * fb_reader), carves the tables from the arena, parses tensors, graph inputs/outputs and
 * operators, looks each op up in the op table (pe_op_table.c) and runs its prepare, then has
 * the planner (pe_planner.c) place the activations and the scratch region.
 *
 * Arena layout, from the first 16-byte aligned address:
 *   pe_state | tensor table | operator table | persistent tables | activations | scratch
 */
#include <stddef.h>
#include <string.h>

#include "hil/engine.h"
#include "pe_loader.h"

/* max(deprecated_builtin_code, builtin_code), as TFLite's GetBuiltinCode. */
static int32_t pe_builtin_code(fb_ctx *fb, const fb_table *code_table)
{
    const int32_t deprecated = fb_i8(fb, code_table, 0, 0);
    const int32_t code = fb_i32(fb, code_table, 3, 0);
    return code > deprecated ? code : deprecated;
}

/* Upper bound of the scratch any op's prepare may request, straight from the flatbuffer, for
 * ARENA_TOO_SMALL reports when even the tables do not fit: 8 bytes per element of the op's
 * inputs plus 64 (the optimized kernels widen at most their filter and input to int16 and add
 * a bias row), the largest over the ops, as the planner shares one region. */
static uint32_t pe_scratch_upper_bound(const fb_ctx *model_fb, const pe_model_view *v)
{
    fb_ctx fb = *model_fb;
    uint64_t most = 0;
    for (uint32_t k = 0; k < v->ops.count && fb.status == HIL_OK; ++k) {
        fb_table op, tensor;
        fb_vec inputs, shape;
        if (!fb_vec_table(&fb, &v->ops, k, &op) || !fb_vector(&fb, &op, 1, 4, &inputs)) {
            break;
        }
        uint64_t elements = 0;
        for (uint32_t i = 0; i < inputs.count && i < 3; ++i) {
            const int32_t index = fb_vec_i32(&fb, &inputs, i);
            if (index < 0 || (uint32_t)index >= v->tensors.count ||
                !fb_vec_table(&fb, &v->tensors, (uint32_t)index, &tensor) || !fb_vector(&fb, &tensor, 0, 4, &shape)) {
                continue;
            }
            uint64_t n = 1;
            for (uint32_t d = 0; d < shape.count && d < PE_MAX_DIMS; ++d) {
                const int32_t dim = fb_vec_i32(&fb, &shape, d);
                n *= dim > 0 ? (uint64_t)dim : 0u;
                n = n > (1u << 28) ? (1u << 28) : n;
            }
            elements += n;
        }
        most = 8u * elements + 64u > most ? 8u * elements + 64u : most;
    }
    return most > 0x7FFFFFFFu ? 0x7FFFFFFFu : (uint32_t)most;
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
        if (code != PE_OP_CONV_2D && code != PE_OP_DEPTHWISE_CONV_2D && code != PE_OP_FULLY_CONNECTED &&
            code != PE_OP_SOFTMAX) {
            continue;
        }
        if (!fb_vector(&fb, &op, 1, 4, &inputs) || inputs.count < 1) {
            break;
        }
        if (code == PE_OP_SOFTMAX) { /* an int16 softmax keeps its two LUTs */
            const int32_t input = fb_vec_i32(&fb, &inputs, 0);
            if (input >= 0 && (uint32_t)input < v->tensors.count &&
                fb_vec_table(&fb, &v->tensors, (uint32_t)input, &tensor) && fb_i8(&fb, &tensor, 1, 0) == PE_TYPE_INT16) {
                bytes += PE_SOFTMAX16_PERSIST_BYTES;
            }
            continue;
        }
        if (inputs.count < 2) {
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

/* One field of a BuiltinOptions table (schema.fbs): its options type, vtable slot, scalar kind
 * and place in pe_options. A field the model leaves out keeps pe_options' default (0; the
 * dilations 1). */
enum { PE_FIELD_I8, PE_FIELD_U8, PE_FIELD_I32, PE_FIELD_F32 };
typedef struct {
    uint8_t options_type, slot, kind, offset;
} pe_option_field;
#define PE_OPTION(type, slot, kind, member) {type, slot, kind, (uint8_t)offsetof(pe_options, member)}

static const pe_option_field pe_option_fields[] = {
    /* Conv2DOptions */
    PE_OPTION(PE_OPT_CONV_2D, 0, PE_FIELD_I8, padding),
    PE_OPTION(PE_OPT_CONV_2D, 1, PE_FIELD_I32, stride_w),
    PE_OPTION(PE_OPT_CONV_2D, 2, PE_FIELD_I32, stride_h),
    PE_OPTION(PE_OPT_CONV_2D, 3, PE_FIELD_I8, activation),
    PE_OPTION(PE_OPT_CONV_2D, 4, PE_FIELD_I32, dilation_w),
    PE_OPTION(PE_OPT_CONV_2D, 5, PE_FIELD_I32, dilation_h),
    PE_OPTION(PE_OPT_CONV_2D, 6, PE_FIELD_I8, quantized_bias_type),
    /* DepthwiseConv2DOptions */
    PE_OPTION(PE_OPT_DEPTHWISE_CONV_2D, 0, PE_FIELD_I8, padding),
    PE_OPTION(PE_OPT_DEPTHWISE_CONV_2D, 1, PE_FIELD_I32, stride_w),
    PE_OPTION(PE_OPT_DEPTHWISE_CONV_2D, 2, PE_FIELD_I32, stride_h),
    PE_OPTION(PE_OPT_DEPTHWISE_CONV_2D, 3, PE_FIELD_I32, depth_multiplier),
    PE_OPTION(PE_OPT_DEPTHWISE_CONV_2D, 4, PE_FIELD_I8, activation),
    PE_OPTION(PE_OPT_DEPTHWISE_CONV_2D, 5, PE_FIELD_I32, dilation_w),
    PE_OPTION(PE_OPT_DEPTHWISE_CONV_2D, 6, PE_FIELD_I32, dilation_h),
    /* Pool2DOptions (AVERAGE_POOL_2D, MAX_POOL_2D) */
    PE_OPTION(PE_OPT_POOL_2D, 0, PE_FIELD_I8, padding),
    PE_OPTION(PE_OPT_POOL_2D, 1, PE_FIELD_I32, stride_w),
    PE_OPTION(PE_OPT_POOL_2D, 2, PE_FIELD_I32, stride_h),
    PE_OPTION(PE_OPT_POOL_2D, 3, PE_FIELD_I32, filter_w),
    PE_OPTION(PE_OPT_POOL_2D, 4, PE_FIELD_I32, filter_h),
    PE_OPTION(PE_OPT_POOL_2D, 5, PE_FIELD_I8, activation),
    /* FullyConnectedOptions */
    PE_OPTION(PE_OPT_FULLY_CONNECTED, 0, PE_FIELD_I8, activation),
    PE_OPTION(PE_OPT_FULLY_CONNECTED, 1, PE_FIELD_I8, weights_format),
    PE_OPTION(PE_OPT_FULLY_CONNECTED, 4, PE_FIELD_I8, quantized_bias_type),
    /* SoftmaxOptions, AddOptions, ReducerOptions (MEAN) */
    PE_OPTION(PE_OPT_SOFTMAX, 0, PE_FIELD_F32, beta),
    PE_OPTION(PE_OPT_ADD, 0, PE_FIELD_I8, activation),
    PE_OPTION(PE_OPT_REDUCER, 0, PE_FIELD_U8, keep_dims),
};

static void pe_parse_options(fb_ctx *fb, const fb_table *op_table, int32_t code, pe_options *o)
{
    fb_table t;
    memset(o, 0, sizeof *o);
    o->dilation_w = 1;
    o->dilation_h = 1;
    const uint8_t type = fb_u8(fb, op_table, 3, 0);
    const pe_op_registration *r = pe_op_find(code, PE_TYPE_ANY);
    if (type == 0 || r == NULL || type != r->options_type || !fb_subtable(fb, op_table, 4, &t)) {
        return;
    }
    for (uint32_t i = 0; i < sizeof pe_option_fields / sizeof pe_option_fields[0]; ++i) {
        const pe_option_field *f = &pe_option_fields[i];
        uint8_t *field = (uint8_t *)o + f->offset;
        int32_t value;
        if (f->options_type != type) {
            continue;
        }
        if (f->kind == PE_FIELD_F32) {
            float current;
            memcpy(&current, field, sizeof current);
            const float beta = fb_f32(fb, &t, f->slot, current);
            memcpy(field, &beta, sizeof beta);
            continue;
        }
        if (f->kind == PE_FIELD_U8) {
            *field = fb_u8(fb, &t, f->slot, *field);
            continue;
        }
        memcpy(&value, field, sizeof value);
        value = f->kind == PE_FIELD_I8 ? fb_i8(fb, &t, f->slot, (int8_t)value) : fb_i32(fb, &t, f->slot, value);
        memcpy(field, &value, sizeof value);
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
        if (pe_op_find(code, PE_TYPE_ANY) == NULL) {
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
                if (t->first_op == PE_UNDEFINED_OP) { /* read before anything wrote it */
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
        if (out->is_const || out->first_op != PE_UNDEFINED_OP) { /* constant or written twice */
            return pe_error(e, HIL_ERR_BAD_MODEL, (int)k, out_index, 0);
        }
        out->first_op = (int16_t)k;
        out->last_op = (int16_t)k;
        op->output = (int16_t)out_index;
        const int32_t first = op->inputs[0];
        const pe_op_registration *r = pe_op_find(code, first >= 0 ? s->tensors[first].type : PE_TYPE_ANY);
        if (r == NULL) {
            return pe_error(e, HIL_ERR_UNSUPPORTED_TYPE, (int)k, first, s->tensors[first].type);
        }
        op->eval = r->eval;
        const hil_status st = r->prepare(s, (int)k, &options);
        if (st != HIL_OK) {
            return st;
        }
    }
    for (uint32_t i = 0; i < s->n_outputs; ++i) {
        pe_tensor *t = &s->tensors[s->outputs[i]];
        if (t->first_op == PE_UNDEFINED_OP) {
            return pe_error(e, HIL_ERR_BAD_MODEL, -1, s->outputs[i], (int32_t)i);
        }
        t->last_op = (int16_t)s->n_ops;
    }
    return HIL_OK;
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
        const uint64_t bound = (uint64_t)lead + meta + pe_activation_upper_bound(&fb, &v) +
                               pe_scratch_upper_bound(&fb, &v);
        out->error.needed = bound > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)bound;
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
    s->scratch = s->scratch_bytes ? s->activations + activation_bytes - pe_align_up(s->scratch_bytes) : NULL;
    s->error = NULL;
    s->magic = PE_MAGIC;
    out->impl = s;
    out->arena_used = (uint32_t)needed;
    return HIL_OK;
}

