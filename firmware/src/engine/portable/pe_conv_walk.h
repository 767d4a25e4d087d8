/* The window walks of CONV_2D and DEPTHWISE_CONV_2D over the element type: conv.c and
 * depthwise_conv.c run them for int8 (reference_integer_ops::ConvPerChannel /
 * DepthwiseConvPerChannel), conv_16x8.c for int16 (their int16 overloads). `int16` and
 * `wide_taps` are constants at every (always inlined) call, so each kernel file compiles only its
 * own type's loop and an ENGINE_INT16=0 image holds no int16 code. */
#ifndef PE_CONV_WALK_H
#define PE_CONV_WALK_H

#include "pe_fixedpoint.h"
#include "pe_int16.h"

/* |int8 * int16| <= 2^22, so up to PE_EXACT_TERMS products add up in int32 without overflow:
 * a window of at most that many taps is summed in int32 and widened, which equals TFLM's int64
 * sum exactly; larger windows add each tap's int32 sum (chunked) to an int64. */
#define PE_EXACT_TERMS 511

/* int8: bias, requantization, output offset, clamp. */
static inline int8_t pe_conv8_output(const pe_conv_params *p, const pe_tensor *bias, int32_t acc, int32_t oc)
{
    if (bias != NULL) {
        acc = pe_wrap_add(acc, hil_le_get_i32(bias->data + 4u * (uint32_t)oc));
    }
    acc = pe_wrap_add(pe_mbqm(acc, p->multiplier[oc], p->shift[oc]), p->output_offset);
    return (int8_t)pe_clamp(acc, p->act_min, p->act_max);
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

/* `wide_taps` (int16 only): add each tap's int32 sum to an int64 (windows above PE_EXACT_TERMS
 * terms with an int64 bias); otherwise one wrapping int32 sum (exact, or TFLM's own int32
 * accumulator). */
static inline __attribute__((always_inline)) void pe_conv_run(const pe_state *s, const pe_op *op, int int16,
                                                              int wide_taps)
{
    const pe_conv_params *p = &op->p.conv;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    const pe_tensor *out = pe_out(s, op);
    const int8_t *input8 = (const int8_t *)in->data;
    const int16_t *input16 = (const int16_t *)(const void *)in->data;
    const int8_t *filter_data = (const int8_t *)filter->data;
    int8_t *output8 = (int8_t *)out->data;
    int16_t *output16 = (int16_t *)(void *)out->data;
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
                    /* the input channels of oc's group, in batch b */
                    const int32_t in_group = b * in_h * in_w * in_c + (oc / filters_per_group) * filter_c;
                    const int8_t *f_px = filter_data + oc * filter_h * filter_w * filter_c;
                    int64_t acc64 = 0;
                    int32_t acc32 = 0;
                    for (int32_t fy = 0; fy < filter_h; ++fy, f_px += filter_w * filter_c) {
                        const int32_t iy = in_y0 + p->dilation_h * fy;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        const int32_t in_row = in_group + iy * in_w * in_c;
                        for (int32_t fx = 0; fx < filter_w; ++fx) {
                            const int32_t ix = in_x0 + p->dilation_w * fx;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const int32_t in_px = in_row + ix * in_c;
                            const int8_t *f_tap = f_px + fx * filter_c;
                            if (!int16) {
                                for (int32_t ic = 0; ic < filter_c; ++ic) {
                                    acc32 = pe_wrap_add(acc32, (int32_t)f_tap[ic] *
                                                                   ((int32_t)input8[in_px + ic] + p->input_offset));
                                }
                            } else if (wide_taps) {
                                for (int32_t ic0 = 0; ic0 < filter_c; ic0 += PE_EXACT_TERMS) {
                                    const int32_t end = filter_c - ic0 < PE_EXACT_TERMS ? filter_c : ic0 + PE_EXACT_TERMS;
                                    int32_t tap = 0;
                                    for (int32_t ic = ic0; ic < end; ++ic) {
                                        tap += (int32_t)f_tap[ic] * (int32_t)input16[in_px + ic];
                                    }
                                    acc64 += tap;
                                }
                            } else {
                                for (int32_t ic = 0; ic < filter_c; ++ic) {
                                    acc32 = pe_wrap_add(acc32, (int32_t)f_tap[ic] * (int32_t)input16[in_px + ic]);
                                }
                            }
                        }
                    }
                    const int32_t at = ((b * out_h + oy) * out_w + ox) * out_c + oc;
                    if (int16) {
                        output16[at] = pe_conv16_output(p, bias, wide_taps ? acc64 : (int64_t)acc32, oc);
                    } else {
                        output8[at] = pe_conv8_output(p, bias, acc32, oc);
                    }
                }
            }
        }
    }
}

/* `wide_taps` (int16 only): an int64 sum, for windows above PE_EXACT_TERMS taps. */
static inline __attribute__((always_inline)) void pe_depthwise_run(const pe_state *s, const pe_op *op, int int16,
                                                                   int wide_taps)
{
    const pe_conv_params *p = &op->p.conv;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    const pe_tensor *out = pe_out(s, op);
    const int8_t *input8 = (const int8_t *)in->data;
    const int16_t *input16 = (const int16_t *)(const void *)in->data;
    const int8_t *filter_data = (const int8_t *)filter->data;
    int8_t *output8 = (int8_t *)out->data;
    int16_t *output16 = (int16_t *)(void *)out->data;
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
                                const int32_t filter_val = filter_data[(fy * filter_w + fx) * out_c + oc];
                                const int32_t in_at = ((b * in_h + iy) * in_w + ix) * in_c + ic;
                                if (!int16) {
                                    acc32 = pe_wrap_add(acc32, filter_val * ((int32_t)input8[in_at] + p->input_offset));
                                } else if (wide_taps) {
                                    acc64 += filter_val * (int32_t)input16[in_at];
                                } else {
                                    acc32 += filter_val * (int32_t)input16[in_at]; /* <= PE_EXACT_TERMS terms: exact */
                                }
                            }
                        }
                        const int32_t at = ((b * out_h + oy) * out_w + ox) * out_c + oc;
                        if (int16) {
                            output16[at] = pe_conv16_output(p, bias, wide_taps ? acc64 : (int64_t)acc32, oc);
                        } else {
                            output8[at] = pe_conv8_output(p, bias, acc32, oc);
                        }
                    }
                }
            }
        }
    }
}

#endif /* PE_CONV_WALK_H */
