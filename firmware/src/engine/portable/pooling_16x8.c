/* MAX_POOL_2D and AVERAGE_POOL_2D, int16. Mirrors TFLM's pooling_common.cc prepare (input and
 * output quantization equal, within 1e-6 in scale) and reference_integer_ops::AveragePool /
 * MaxPool (int16 overloads). */
#include <math.h>

#include "pe_int16.h"

hil_status pe_pooling16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_pool16_params *p = &op->p.i16.pool;
    hil_status st;
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *out = &s->tensors[op->output];
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT16)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT16)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->inputs[0], 4)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->output, 4)) != HIL_OK) {
        return st;
    }
    if (!((double)fabsf(in->scale - out->scale) <= 1.0e-6) || in->zero_point != out->zero_point) {
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
    return pe_activation_range16(s, op_index, o->activation, out, &p->act_min, &p->act_max);
}

/* One pooled value per output element; `average` picks the kernel (inlined into each eval, so
 * the choice is made at compile time). */
static inline __attribute__((always_inline)) void pe_pool16(const pe_state *s, const pe_op *op, int average)
{
    const pe_pool16_params *p = &op->p.i16.pool;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *out = pe_out(s, op);
    const int16_t *input_data = (const int16_t *)(const void *)in->data;
    int16_t *output_data = (int16_t *)(void *)out->data;
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
                    int32_t max = -32768;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        const int32_t row = window + (fy * in_w) * depth + c;
                        for (int32_t fx = fx0; fx < fx1; ++fx) {
                            const int32_t v = input_data[row + fx * depth];
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
                    output_data[((b * out_h + oy) * out_w + ox) * depth + c] =
                        (int16_t)pe_clamp(value, p->act_min, p->act_max);
                }
            }
        }
    }
}

__attribute__((optimize("O2"))) void pe_average_pool16_eval(const pe_state *s, const pe_op *op)
{
    pe_pool16(s, op, 1);
}

__attribute__((optimize("O2"))) void pe_max_pool16_eval(const pe_state *s, const pe_op *op)
{
    pe_pool16(s, op, 0);
}
