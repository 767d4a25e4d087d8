/* MAX_POOL_2D and AVERAGE_POOL_2D of int8 and int16 tensors (pooling.c, pooling_16x8.c): one
 * prepare and one window walk over the element type, both inlined per type so each kernel file
 * keeps its own code (an ENGINE_INT16=0 image holds the int8 copy only). Mirrors TFLM's
 * pooling_common.cc prepare and reference_integer_ops::AveragePool / MaxPool. */
#ifndef PE_POOL_H
#define PE_POOL_H

#include <math.h>

#include "pe_fixedpoint.h"
#include "pe_internal.h"

/* Types, quantization (int16: input and output quantization equal, within 1e-6 in scale, as
 * TFLM checks), ranks, the window and the output shape; fills op->p.pool but the activation
 * range. */
static inline __attribute__((always_inline)) hil_status pe_pool_prepare_shape(pe_state *s, int op_index,
                                                                           const pe_options *o, uint8_t type)
{
    pe_op *op = &s->ops[op_index];
    pe_pool_params *p = &op->p.pool;
    hil_status st;
    if ((st = pe_expect_unary_io(s, op_index, type, type == PE_TYPE_INT16)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->inputs[0], 4)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->output, 4)) != HIL_OK) {
        return st;
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *out = &s->tensors[op->output];
    if (type == PE_TYPE_INT16 &&
        (!((double)fabsf(in->scale - out->scale) <= 1.0e-6) || in->zero_point != out->zero_point)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->output, 0);
    }
    if ((st = pe_check_window(s, op_index, o->filter_h, o->stride_h, 1)) != HIL_OK ||
        (st = pe_check_window(s, op_index, o->filter_w, o->stride_w, 1)) != HIL_OK) {
        return st;
    }
    const int32_t out_h = pe_compute_out_size(o->padding, in->dims[1], o->filter_h, o->stride_h, 1);
    const int32_t out_w = pe_compute_out_size(o->padding, in->dims[2], o->filter_w, o->stride_w, 1);
    if (out->dims[0] != in->dims[0] || out->dims[1] != out_h || out->dims[2] != out_w ||
        out->dims[3] != in->dims[3]) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, 0);
    }
    p->stride_w = o->stride_w;
    p->stride_h = o->stride_h;
    p->filter_w = o->filter_w;
    p->filter_h = o->filter_h;
    p->pad_h = pe_compute_padding(o->stride_h, 1, in->dims[1], o->filter_h, out_h);
    p->pad_w = pe_compute_padding(o->stride_w, 1, in->dims[2], o->filter_w, out_w);
    return HIL_OK;
}

/* One pooled value per output element; `average` and `int16` are constants at each call. */
static inline __attribute__((always_inline)) void pe_pool_run(const pe_state *s, const pe_op *op, int average,
                                                              int int16)
{
    const pe_pool_params *p = &op->p.pool;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *out = pe_out(s, op);
    const int8_t *input8 = (const int8_t *)in->data;
    const int16_t *input16 = (const int16_t *)(const void *)in->data;
    int8_t *output8 = (int8_t *)out->data;
    int16_t *output16 = (int16_t *)(void *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], depth = in->dims[3];
    const int32_t out_h = out->dims[1], out_w = out->dims[2];

    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t in_y0 = oy * p->stride_h - p->pad_h;
                /* Window bounds clipped to the image, as TFLite computes them. */
                const int32_t fx0 = in_x0 < 0 ? -in_x0 : 0;
                const int32_t fx1 = in_w - in_x0 < p->filter_w ? in_w - in_x0 : p->filter_w;
                const int32_t fy0 = in_y0 < 0 ? -in_y0 : 0;
                const int32_t fy1 = in_h - in_y0 < p->filter_h ? in_h - in_y0 : p->filter_h;
                const int32_t window = ((b * in_h + in_y0) * in_w + in_x0) * depth; /* may be < 0 */
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t acc = 0;
                    int32_t max = int16 ? -32768 : -128;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        const int32_t row = window + (fy * in_w) * depth + c;
                        for (int32_t fx = fx0; fx < fx1; ++fx) {
                            const int32_t v = int16 ? input16[row + fx * depth] : input8[row + fx * depth];
                            if (average) {
                                acc = pe_wrap_add(acc, v);
                            } else {
                                max = v > max ? v : max;
                            }
                        }
                    }
                    int32_t value = max;
                    if (average) {
                        /* TFLite's kernel fails on an empty window; prepare's shapes exclude it. */
                        value = count <= 0 ? 0 : (acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count);
                    }
                    const int32_t at = ((b * out_h + oy) * out_w + ox) * depth + c;
                    if (int16) {
                        output16[at] = (int16_t)pe_clamp(value, p->act_min, p->act_max);
                    } else {
                        output8[at] = (int8_t)pe_clamp(value, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

#endif /* PE_POOL_H */
