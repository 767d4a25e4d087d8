/* CONV_2D and DEPTHWISE_CONV_2D, 16x8: int16 input/output, int8 per-channel (or per-tensor)
 * filter, int64 bias. Mirrors TFLM's conv.cc / depthwise_conv.cc for kTfLiteInt16 and
 * reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel (int16 overloads): no input or
 * output offset (zero point 0), int64 accumulator and the 64-bit requantization. A CONV_2D with an
 * INT32 bias (or none and quantized_bias_type INT32) accumulates in int32 and requantizes with the
 * 32-bit MultiplyByQuantizedMultiplier, as TFLM's AccumScalar = int32_t instantiation does. */
#include "pe_conv_util.h"
#include "pe_conv_walk.h"
#include "pe_dsp.h"

static void pe_conv16_eval_wide(const pe_state *s, const pe_op *op);
#ifndef PE_REFERENCE_KERNELS
static void pe_conv16_eval_1d(const pe_state *s, const pe_op *op);
#endif
static void pe_depthwise_conv16_eval_wide(const pe_state *s, const pe_op *op);

hil_status pe_conv16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_conv_params *p = &op->p.conv;
    hil_status st;
    if ((st = pe_conv_check_io(s, op_index, PE_TYPE_INT16, 0)) != HIL_OK) {
        return st;
    }
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const int32_t out_c = filter->dims[0];
    const int32_t filter_c = filter->dims[3];
    if ((st = pe_conv_check_groups(s, op_index)) != HIL_OK ||
        (st = pe_bias16(s, op_index, out_c, 1, o->quantized_bias_type, &p->wide_bias)) != HIL_OK ||
        (st = pe_conv_prepare_params(s, op_index, o, 0, p)) != HIL_OK) {
        return st;
    }
    const int64_t window = (int64_t)filter->dims[1] * filter->dims[2] * filter_c;
    if (p->wide_bias && window > PE_EXACT_TERMS) {
        op->eval = pe_conv16_eval_wide;
    }
#ifndef PE_REFERENCE_KERNELS /* the reference loop alone, as conv.c's PE_REFERENCE_KERNELS builds */
    else if (pe_in(s, op, 0)->dims[2] == 1 && filter->dims[2] == 1 && filter_c == pe_in(s, op, 0)->dims[3] &&
             p->dilation_h == 1) {
        /* A 1-D convolution over the rows (window sums in int32: exact, or TFLM's int32 one):
         * each output's window is one contiguous run of input and of weights, one output
         * channel's weights widened to int16 in the scratch region for dual 16-bit MACs. */
        if ((st = pe_request_scratch(s, op_index, 2u * (uint32_t)(filter->dims[1] * filter_c))) != HIL_OK) {
            return st;
        }
        op->eval = pe_conv16_eval_1d;
    }
#endif
    return HIL_OK;
}

hil_status pe_depthwise_conv16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_conv_params *p = &op->p.conv;
    hil_status st;
    /* TFLM's int16 depthwise reads the bias as int64 whatever its type: only INT64 is safe. */
    if ((st = pe_conv_check_io(s, op_index, PE_TYPE_INT16, 3)) != HIL_OK ||
        (st = pe_depthwise_check_multiplier(s, op_index, o)) != HIL_OK ||
        (st = pe_bias16(s, op_index, pe_in(s, op, 1)->dims[3], 0, 0, &p->wide_bias)) != HIL_OK ||
        (st = pe_conv_prepare_params(s, op_index, o, 3, p)) != HIL_OK) {
        return st;
    }
    if ((int64_t)pe_in(s, op, 1)->dims[1] * pe_in(s, op, 1)->dims[2] > PE_EXACT_TERMS) {
        op->eval = pe_depthwise_conv16_eval_wide;
    }
    return HIL_OK;
}

/* -O2 for the 1-D path's loop (at -Os GCC 12 keeps its counters and pointers on the stack); the
 * general loops stay at -Os, where -O2 would buy ~1.7x on 2-D windows for ~1.5 KB of flash. */
#define PE_HOT __attribute__((optimize("O2")))

void pe_conv16_eval(const pe_state *s, const pe_op *op)
{
    pe_conv_run(s, op, 1, 0);
}

static void pe_conv16_eval_wide(const pe_state *s, const pe_op *op) /* rare: -Os */
{
    pe_conv_run(s, op, 1, 1);
}

#ifndef PE_REFERENCE_KERNELS
PE_HOT static void pe_conv16_eval_1d(const pe_state *s, const pe_op *op)
{
    const pe_conv_params *p = &op->p.conv;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    const pe_tensor *out = pe_out(s, op);
    const int16_t *input_data = (const int16_t *)(const void *)in->data;
    int16_t *output_data = (int16_t *)(void *)out->data;
    int16_t *weights = (int16_t *)(void *)s->scratch; /* one output channel's, widened */
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_c = in->dims[3];
    const int32_t filter_h = filter->dims[1], out_h = out->dims[1], out_c = out->dims[3];
    const int32_t row = filter_h * in_c;
    for (int32_t oc = 0; oc < out_c; ++oc) {
        const int8_t *filter_row = (const int8_t *)filter->data + oc * row;
        for (int32_t i = 0; i < row; ++i) {
            weights[i] = filter_row[i];
        }
        const int64_t bias_oc = pe_conv16_bias(p, bias, oc); /* read once per channel */
        for (int32_t b = 0; b < batches; ++b) {
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t in_y0 = oy * p->stride_h - p->pad_h;
                const int32_t fy0 = in_y0 < 0 ? -in_y0 : 0;
                const int32_t fy1 = in_h - in_y0 < filter_h ? in_h - in_y0 : filter_h;
                const int32_t n = fy1 > fy0 ? (fy1 - fy0) * in_c : 0;
                const int16_t *x = n > 0 ? input_data + (b * in_h + in_y0 + fy0) * in_c : input_data;
                const int16_t *w = weights + fy0 * in_c;
                int32_t acc = 0;
                int32_t k = 0;
                for (; k + 1 < n; k += 2) {
                    acc = pe_dot2(w + k, x + k, acc);
                }
                if (k < n) {
                    acc = pe_wrap_add(acc, (int32_t)w[k] * (int32_t)x[k]);
                }
                output_data[(b * out_h + oy) * out_c + oc] = pe_conv16_scale(p, acc, bias_oc, oc);
            }
        }
    }
}
#endif /* PE_REFERENCE_KERNELS */

void pe_depthwise_conv16_eval(const pe_state *s, const pe_op *op)
{
    pe_depthwise_run(s, op, 1, 0);
}

static void pe_depthwise_conv16_eval_wide(const pe_state *s, const pe_op *op) /* rare: -Os */
{
    pe_depthwise_run(s, op, 1, 1);
}
