/* MAX_POOL_2D and AVERAGE_POOL_2D, int8. Mirrors TFLM's pooling_common.cc prepare and
 * reference_integer_ops::AveragePool / MaxPool. */
#include "pe_internal.h"
#include "pe_fixedpoint.h"

hil_status pe_pooling_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_pool_params *p = &op->p.pool;
    hil_status st;
    if (op->n_inputs < 1 || op->inputs[0] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *out = &s->tensors[op->output];
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->inputs[0], 4)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->output, 4)) != HIL_OK) {
        return st;
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
    if ((st = pe_activation_range(s, op_index, o->activation, out, &p->act_min, &p->act_max)) != HIL_OK) {
        return st;
    }
#ifndef PE_REFERENCE_KERNELS
    if (op->code == PE_OP_MAX_POOL_2D) {
        op->eval = pe_max_pool_eval_fast; /* pooling_fast.c */
    }
#endif
    return HIL_OK;
}

/* Window bounds clipped to the image, as TFLite computes them. */
static void pe_window(int32_t origin, int32_t filter, int32_t size, int32_t *start, int32_t *end)
{
    *start = origin < 0 ? -origin : 0;
    *end = size - origin < filter ? size - origin : filter;
}

void pe_average_pool_eval(const pe_state *s, const pe_op *op)
{
    const pe_pool_params *p = &op->p.pool;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *out = pe_out(s, op);
    const int8_t *input_data = (const int8_t *)in->data;
    int8_t *output_data = (int8_t *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], depth = in->dims[3];
    const int32_t out_h = out->dims[1], out_w = out->dims[2];

    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t in_y0 = oy * p->stride_h - p->pad_h;
                int32_t fx0, fx1, fy0, fy1;
                pe_window(in_x0, p->filter_w, in_w, &fx0, &fx1);
                pe_window(in_y0, p->filter_h, in_h, &fy0, &fy1);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t acc = 0;
                    int32_t count = 0;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        for (int32_t fx = fx0; fx < fx1; ++fx) {
                            acc += input_data[((b * in_h + in_y0 + fy) * in_w + in_x0 + fx) * depth + c];
                            ++count;
                        }
                    }
                    int8_t *dst = &output_data[((b * out_h + oy) * out_w + ox) * depth + c];
                    if (count == 0) {
                        /* TFLite's kernel returns an error here; an empty window cannot occur
                         * with shapes accepted by prepare. */
                        *dst = 0;
                        continue;
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    *dst = (int8_t)pe_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

void pe_max_pool_eval(const pe_state *s, const pe_op *op)
{
    const pe_pool_params *p = &op->p.pool;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *out = pe_out(s, op);
    const int8_t *input_data = (const int8_t *)in->data;
    int8_t *output_data = (int8_t *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], depth = in->dims[3];
    const int32_t out_h = out->dims[1], out_w = out->dims[2];

    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t in_y0 = oy * p->stride_h - p->pad_h;
                int32_t fx0, fx1, fy0, fy1;
                pe_window(in_x0, p->filter_w, in_w, &fx0, &fx1);
                pe_window(in_y0, p->filter_h, in_h, &fy0, &fy1);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t max = -128;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        for (int32_t fx = fx0; fx < fx1; ++fx) {
                            const int32_t v = input_data[((b * in_h + in_y0 + fy) * in_w + in_x0 + fx) * depth + c];
                            max = v > max ? v : max;
                        }
                    }
                    output_data[((b * out_h + oy) * out_w + ox) * depth + c] =
                        (int8_t)pe_clamp(max, p->act_min, p->act_max);
                }
            }
        }
    }
}
