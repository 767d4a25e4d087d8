/* CONV_2D and DEPTHWISE_CONV_2D, 16x8: int16 input/output, int8 per-channel (or per-tensor)
 * filter, int64 bias. Mirrors TFLM's conv.cc / depthwise_conv.cc for kTfLiteInt16 and
 * reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel (int16 overloads): no input or
 * output offset (zero point 0), int64 accumulator and the 64-bit requantization. A CONV_2D with an
 * INT32 bias (or none and quantized_bias_type INT32) accumulates in int32 and requantizes with the
 * 32-bit MultiplyByQuantizedMultiplier, as TFLM's AccumScalar = int32_t instantiation does. */
#include "pe_conv_util.h"
#include "pe_dsp.h"
#include "pe_int16.h"

/* |int8 * int16| <= 2^22, so up to PE_EXACT_TERMS products add up in int32 without overflow:
 * a window of at most that many taps is summed in int32 and widened, which equals TFLM's int64
 * sum exactly; larger windows add each tap's int32 sum (chunked) to an int64. */
#define PE_EXACT_TERMS 511

static void pe_conv16_eval_wide(const pe_state *s, const pe_op *op);
#ifndef PE_REFERENCE_KERNELS
static void pe_conv16_eval_1d(const pe_state *s, const pe_op *op);
#endif
static void pe_depthwise_conv16_eval_wide(const pe_state *s, const pe_op *op);

/* Types, quantization and ranks of input, filter and output; shapes are the caller's. */
static hil_status pe_conv16_check(pe_state *s, int op_index)
{
    const hil_status st = pe_check_weighted_io(s, op_index, PE_TYPE_INT16);
    return st != HIL_OK ? st : pe_conv_check_ranks(s, op_index);
}

static hil_status pe_conv16_quant(pe_state *s, int op_index, const pe_options *o, int32_t out_c,
                                  int32_t quantized_dim, pe_conv_params *p)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    if ((st = pe_conv_quant_params(s, op_index, &s->tensors[op->inputs[0]], &s->tensors[op->inputs[1]],
                                   op->inputs[1], &s->tensors[op->output], out_c, quantized_dim,
                                   &p->multiplier, &p->shift)) != HIL_OK) {
        return st;
    }
    if (p->wide_bias && (st = pe_check_shift64(s, op_index, op->inputs[1], p->shift, out_c)) != HIL_OK) {
        return st;
    }
    return pe_activation_range16(s, op_index, o->activation, &s->tensors[op->output], &p->act_min, &p->act_max);
}

hil_status pe_conv16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_conv_params *p = &op->p.conv;
    hil_status st;
    if ((st = pe_conv16_check(s, op_index)) != HIL_OK) {
        return st;
    }
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const int32_t out_c = filter->dims[0];
    const int32_t filter_c = filter->dims[3];
    if ((st = pe_conv_check_groups(s, op_index)) != HIL_OK ||
        (st = pe_bias16(s, op_index, out_c, 1, o->quantized_bias_type, &p->wide_bias)) != HIL_OK ||
        (st = pe_conv_window(s, op_index, o, out_c, p)) != HIL_OK) {
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
    return pe_conv16_quant(s, op_index, o, out_c, 0, p);
}

hil_status pe_depthwise_conv16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_conv_params *p = &op->p.conv;
    hil_status st;
    if ((st = pe_conv16_check(s, op_index)) != HIL_OK) {
        return st;
    }
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const int32_t out_c = filter->dims[3];
    if ((st = pe_depthwise_check_multiplier(s, op_index, o)) != HIL_OK) {
        return st;
    }
    /* TFLM's int16 depthwise reads the bias as int64 whatever its type: only INT64 is safe. */
    if ((st = pe_bias16(s, op_index, out_c, 0, 0, &p->wide_bias)) != HIL_OK ||
        (st = pe_conv_window(s, op_index, o, out_c, p)) != HIL_OK) {
        return st;
    }
    p->depth_multiplier = o->depth_multiplier;
    if ((int64_t)filter->dims[1] * filter->dims[2] > PE_EXACT_TERMS) {
        op->eval = pe_depthwise_conv16_eval_wide;
    }
    return pe_conv16_quant(s, op_index, o, out_c, 3, p);
}

/* Output channel oc's bias, 0 without one (adding 0 changes no sum). */
static inline int64_t pe_conv16_bias(const pe_conv_params *p, const pe_tensor *bias, int32_t oc)
{
    if (bias == NULL) {
        return 0;
    }
    return p->wide_bias ? hil_le_get_i64(bias->data + 8u * (uint32_t)oc)
                        : (int64_t)hil_le_get_i32(bias->data + 4u * (uint32_t)oc);
}

/* One output from its accumulator and its channel's bias (pe_conv16_bias). */
static inline int16_t pe_conv16_scale(const pe_conv_params *p, int64_t acc, int64_t bias, int32_t oc)
{
    int32_t scaled;
    if (p->wide_bias) {
        scaled = pe_mbqm64(pe_wrap_add64(acc, bias), p->multiplier[oc], p->shift[oc]);
    } else { /* TFLM's int32 accumulator: acc holds the wrapped int32 sum */
        scaled = pe_mbqm(pe_wrap_add((int32_t)acc, (int32_t)bias), p->multiplier[oc], p->shift[oc]);
    }
    return (int16_t)pe_clamp(scaled, p->act_min, p->act_max);
}

static inline int16_t pe_conv16_output(const pe_conv_params *p, const pe_tensor *bias, int64_t acc,
                                       int32_t oc)
{
    return pe_conv16_scale(p, acc, pe_conv16_bias(p, bias, oc), oc);
}

/* `wide_taps`: add each tap's int32 sum to an int64 (windows above PE_EXACT_TERMS terms with an
 * int64 bias); otherwise one wrapping int32 sum (exact, or TFLM's own int32 accumulator). */
static inline __attribute__((always_inline)) void pe_conv16_run(const pe_state *s, const pe_op *op, int wide_taps)
{
    const pe_conv_params *p = &op->p.conv;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    const pe_tensor *out = pe_out(s, op);
    const int16_t *input_data = (const int16_t *)(const void *)in->data;
    const int8_t *filter_data = (const int8_t *)filter->data;
    int16_t *output_data = (int16_t *)(void *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], in_c = in->dims[3];
    const int32_t filter_h = filter->dims[1], filter_w = filter->dims[2], filter_c = filter->dims[3];
    const int32_t out_h = out->dims[1], out_w = out->dims[2], out_c = out->dims[3];
    const int32_t filters_per_group = out_c / (in_c / filter_c);

    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int16_t *in_group = input_data + b * in_h * in_w * in_c + (oc / filters_per_group) * filter_c;
                    const int8_t *f_px = filter_data + oc * filter_h * filter_w * filter_c;
                    int64_t acc64 = 0;
                    int32_t acc32 = 0;
                    for (int32_t fy = 0; fy < filter_h; ++fy, f_px += filter_w * filter_c) {
                        const int32_t iy = in_y0 + p->dilation_h * fy;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        const int16_t *in_row = in_group + iy * in_w * in_c;
                        for (int32_t fx = 0; fx < filter_w; ++fx) {
                            const int32_t ix = in_x0 + p->dilation_w * fx;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const int16_t *in_px = in_row + ix * in_c;
                            const int8_t *f_tap = f_px + fx * filter_c;
                            if (wide_taps) {
                                for (int32_t ic0 = 0; ic0 < filter_c; ic0 += PE_EXACT_TERMS) {
                                    const int32_t end = filter_c - ic0 < PE_EXACT_TERMS ? filter_c : ic0 + PE_EXACT_TERMS;
                                    int32_t tap = 0;
                                    for (int32_t ic = ic0; ic < end; ++ic) {
                                        tap += (int32_t)f_tap[ic] * (int32_t)in_px[ic];
                                    }
                                    acc64 += tap;
                                }
                            } else {
                                for (int32_t ic = 0; ic < filter_c; ++ic) {
                                    acc32 = pe_wrap_add(acc32, (int32_t)f_tap[ic] * (int32_t)in_px[ic]);
                                }
                            }
                        }
                    }
                    output_data[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                        pe_conv16_output(p, bias, wide_taps ? acc64 : (int64_t)acc32, oc);
                }
            }
        }
    }
}

/* -O2 for the 1-D path's loop (at -Os GCC 12 keeps its counters and pointers on the stack); the
 * general loops stay at -Os, where -O2 would buy ~1.7x on 2-D windows for ~1.5 KB of flash. */
#define PE_HOT __attribute__((optimize("O2")))

void pe_conv16_eval(const pe_state *s, const pe_op *op)
{
    pe_conv16_run(s, op, 0);
}

static void pe_conv16_eval_wide(const pe_state *s, const pe_op *op) /* rare: -Os */
{
    pe_conv16_run(s, op, 1);
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

static inline __attribute__((always_inline)) void pe_depthwise_conv16_run(const pe_state *s, const pe_op *op,
                                                                          int wide_taps)
{
    const pe_conv_params *p = &op->p.conv;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    const pe_tensor *out = pe_out(s, op);
    const int16_t *input_data = (const int16_t *)(const void *)in->data;
    const int8_t *filter_data = (const int8_t *)filter->data;
    int16_t *output_data = (int16_t *)(void *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], in_c = in->dims[3];
    const int32_t filter_h = filter->dims[1], filter_w = filter->dims[2];
    const int32_t out_h = out->dims[1], out_w = out->dims[2], out_c = out->dims[3];
    const int32_t dm = p->depth_multiplier;

    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    for (int32_t m = 0; m < dm; ++m) {
                        const int32_t oc = m + ic * dm;
                        int64_t acc64 = 0;
                        int32_t acc32 = 0;
                        for (int32_t fy = 0; fy < filter_h; ++fy) {
                            const int32_t iy = in_y0 + p->dilation_h * fy;
                            if (iy < 0 || iy >= in_h) {
                                continue;
                            }
                            for (int32_t fx = 0; fx < filter_w; ++fx) {
                                const int32_t ix = in_x0 + p->dilation_w * fx;
                                if (ix < 0 || ix >= in_w) {
                                    continue;
                                }
                                const int32_t product = (int32_t)filter_data[(fy * filter_w + fx) * out_c + oc] *
                                                        (int32_t)input_data[((b * in_h + iy) * in_w + ix) * in_c + ic];
                                if (wide_taps) {
                                    acc64 += product;
                                } else {
                                    acc32 += product; /* at most PE_EXACT_TERMS terms: exact */
                                }
                            }
                        }
                        output_data[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                            pe_conv16_output(p, bias, wide_taps ? acc64 : (int64_t)acc32, oc);
                    }
                }
            }
        }
    }
}

void pe_depthwise_conv16_eval(const pe_state *s, const pe_op *op)
{
    pe_depthwise_conv16_run(s, op, 0);
}

static void pe_depthwise_conv16_eval_wide(const pe_state *s, const pe_op *op) /* rare: -Os */
{
    pe_depthwise_conv16_run(s, op, 1);
}
