/*
 * Loader, part two: the tensor table (types, shapes, constant data in place, quantization)
 * and the graph's inputs and outputs, each checked before use; and the activation upper bound
 * that sizes an ARENA_TOO_SMALL report before the tables fit.
 */
#include <string.h>

#include "pe_loader.h"

hil_status pe_error(hil_engine_t *e, hil_status status, int op_index, int tensor_index,
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

hil_status pe_fb_error(hil_engine_t *e, const fb_ctx *fb, int op_index, int tensor_index)
{
    return pe_error(e, fb->status, op_index, tensor_index, (int32_t)fb->bad_at);
}

hil_status pe_parse_tensors(hil_engine_t *e, fb_ctx *fb, const pe_model_view *v, pe_state *s)
{
    for (uint32_t i = 0; i < s->n_tensors; ++i) {
        pe_tensor *t = &s->tensors[i];
        fb_table tt, quant, buffer;
        fb_vec shape, data, scales, zero_points;
        memset(t, 0, sizeof *t);
        t->first_op = PE_UNDEFINED_OP;
        t->last_op = PE_UNDEFINED_OP;
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
        const uint32_t element_size = pe_type_size(t->type);
        if (element_size == 0) {
            return pe_error(e, HIL_ERR_UNSUPPORTED_TYPE, -1, (int)i, t->type);
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
                if (t->type == PE_TYPE_INT16 && ((uintptr_t)t->data & 1u) != 0) {
                    return pe_error(e, HIL_ERR_BAD_MODEL, -1, (int)i, (int32_t)data.pos); /* read as int16_t */
                }
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
                /* int16 tensors are symmetric (TFLite's quantization spec; TFLM's int16 kernels
                 * drop the zero point). */
                if ((t->type == PE_TYPE_INT8 && (zp < -128 || zp > 127)) || (t->type == PE_TYPE_INT16 && zp != 0)) {
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

hil_status pe_parse_io(hil_engine_t *e, fb_ctx *fb, const fb_vec *vec, pe_state *s, int is_input)
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
        if (t->type != PE_TYPE_INT8 && t->type != PE_TYPE_INT16 && t->type != PE_TYPE_FLOAT32) {
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

/* Upper bound of activation bytes straight from the flatbuffer, for ARENA_TOO_SMALL reports
 * when even the tables do not fit. */
uint32_t pe_activation_upper_bound(const fb_ctx *model_fb, const pe_model_view *v)
{
    fb_ctx fb = *model_fb;
    uint64_t total = 0;
    for (uint32_t i = 0; i < v->tensors.count && fb.status == HIL_OK; ++i) {
        fb_table tt;
        fb_vec shape;
        if (!fb_vec_table(&fb, &v->tensors, i, &tt) || !fb_vector(&fb, &tt, 0, 4, &shape)) {
            break;
        }
        uint64_t bytes = pe_type_size((uint8_t)fb_i8(&fb, &tt, 1, 0));
        bytes = bytes ? bytes : 4u; /* a type the engine refuses later */
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

