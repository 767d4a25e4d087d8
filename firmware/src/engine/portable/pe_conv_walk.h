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

/* What both walks read: the op's parameters, data pointers (of both element types; a walk reads
 * its own) and dimensions; kept in registers once a walk is inlined. */
typedef struct {
    const pe_conv_params *p;
    const pe_tensor *bias;
    const int8_t *input8;
    const int16_t *input16;
    const int8_t *filter;
    int8_t *output8;
    int16_t *output16;
    int32_t batches, in_h, in_w, in_c, filter_h, filter_w, filter_c, out_h, out_w, out_c;
} pe_conv_view;

static inline __attribute__((always_inline)) pe_conv_view pe_conv_view_of(const pe_state *s, const pe_op *op)
{
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *out = pe_out(s, op);
    const pe_conv_view v = {
        &op->p.conv, op->n_inputs > 2 ? pe_in(s, op, 2) : NULL, (const int8_t *)in->data,
        (const int16_t *)(const void *)in->data, (const int8_t *)filter->data, (int8_t *)out->data,
        (int16_t *)(void *)out->data, in->dims[0], in->dims[1], in->dims[2], in->dims[3], filter->dims[1],
        filter->dims[2], filter->dims[3], out->dims[1], out->dims[2], out->dims[3],
    };
    return v;
}

/* `wide_taps` (int16 only): add each tap's int32 sum to an int64 (windows above PE_EXACT_TERMS
 * terms with an int64 bias); otherwise one wrapping int32 sum (exact, or TFLM's own int32
 * accumulator). */
static inline __attribute__((always_inline)) void pe_conv_run(const pe_state *s, const pe_op *op, int int16,
                                                              int wide_taps)
{
    const pe_conv_view v = pe_conv_view_of(s, op);
    const int32_t filters_per_group = v.out_c / (v.in_c / v.filter_c);

    for (int32_t b = 0; b < v.batches; ++b) {
        for (int32_t oy = 0; oy < v.out_h; ++oy) {
            const int32_t in_y0 = oy * v.p->stride_h - v.p->pad_h;
            for (int32_t ox = 0; ox < v.out_w; ++ox) {
                const int32_t in_x0 = ox * v.p->stride_w - v.p->pad_w;
                for (int32_t oc = 0; oc < v.out_c; ++oc) {
                    /* the input channels of oc's group, in batch b */
                    const int32_t in_group = b * v.in_h * v.in_w * v.in_c + (oc / filters_per_group) * v.filter_c;
                    const int8_t *f_px = v.filter + oc * v.filter_h * v.filter_w * v.filter_c;
                    int64_t acc64 = 0;
                    int32_t acc32 = 0;
                    for (int32_t fy = 0; fy < v.filter_h; ++fy, f_px += v.filter_w * v.filter_c) {
                        const int32_t iy = in_y0 + v.p->dilation_h * fy;
                        if (iy < 0 || iy >= v.in_h) {
                            continue;
                        }
                        const int32_t in_row = in_group + iy * v.in_w * v.in_c;
                        for (int32_t fx = 0; fx < v.filter_w; ++fx) {
                            const int32_t ix = in_x0 + v.p->dilation_w * fx;
                            if (ix < 0 || ix >= v.in_w) {
                                continue;
                            }
                            const int32_t in_px = in_row + ix * v.in_c;
                            const int8_t *f_tap = f_px + fx * v.filter_c;
                            if (!int16) {
                                for (int32_t ic = 0; ic < v.filter_c; ++ic) {
                                    acc32 = pe_wrap_add(acc32, (int32_t)f_tap[ic] *
                                                                   ((int32_t)v.input8[in_px + ic] + v.p->input_offset));
                                }
                            } else if (wide_taps) {
                                for (int32_t ic0 = 0; ic0 < v.filter_c; ic0 += PE_EXACT_TERMS) {
                                    const int32_t end =
                                        v.filter_c - ic0 < PE_EXACT_TERMS ? v.filter_c : ic0 + PE_EXACT_TERMS;
                                    int32_t tap = 0;
                                    for (int32_t ic = ic0; ic < end; ++ic) {
                                        tap += (int32_t)f_tap[ic] * (int32_t)v.input16[in_px + ic];
                                    }
                                    acc64 += tap;
                                }
                            } else {
                                for (int32_t ic = 0; ic < v.filter_c; ++ic) {
                                    acc32 = pe_wrap_add(acc32, (int32_t)f_tap[ic] * (int32_t)v.input16[in_px + ic]);
                                }
                            }
                        }
                    }
                    const int32_t at = ((b * v.out_h + oy) * v.out_w + ox) * v.out_c + oc;
                    if (int16) {
                        v.output16[at] = pe_conv16_output(v.p, v.bias, wide_taps ? acc64 : (int64_t)acc32, oc);
                    } else {
                        v.output8[at] = pe_conv8_output(v.p, v.bias, acc32, oc);
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
    const pe_conv_view v = pe_conv_view_of(s, op);
    const int32_t dm = v.p->depth_multiplier;

    for (int32_t b = 0; b < v.batches; ++b) {
        for (int32_t oy = 0; oy < v.out_h; ++oy) {
            const int32_t in_y0 = oy * v.p->stride_h - v.p->pad_h;
            for (int32_t ox = 0; ox < v.out_w; ++ox) {
                const int32_t in_x0 = ox * v.p->stride_w - v.p->pad_w;
                for (int32_t ic = 0; ic < v.in_c; ++ic) {
                    for (int32_t m = 0; m < dm; ++m) {
                        const int32_t oc = m + ic * dm;
                        int64_t acc64 = 0;
                        int32_t acc32 = 0;
                        for (int32_t fy = 0; fy < v.filter_h; ++fy) {
                            const int32_t iy = in_y0 + v.p->dilation_h * fy;
                            if (iy < 0 || iy >= v.in_h) {
                                continue;
                            }
                            for (int32_t fx = 0; fx < v.filter_w; ++fx) {
                                const int32_t ix = in_x0 + v.p->dilation_w * fx;
                                if (ix < 0 || ix >= v.in_w) {
                                    continue;
                                }
                                const int32_t filter_val = v.filter[(fy * v.filter_w + fx) * v.out_c + oc];
                                const int32_t in_at = ((b * v.in_h + iy) * v.in_w + ix) * v.in_c + ic;
                                if (!int16) {
                                    acc32 = pe_wrap_add(acc32,
                                                        filter_val * ((int32_t)v.input8[in_at] + v.p->input_offset));
                                } else if (wide_taps) {
                                    acc64 += filter_val * (int32_t)v.input16[in_at];
                                } else {
                                    /* at most PE_EXACT_TERMS terms: exact */
                                    acc32 += filter_val * (int32_t)v.input16[in_at];
                                }
                            }
                        }
                        const int32_t at = ((b * v.out_h + oy) * v.out_w + ox) * v.out_c + oc;
                        if (int16) {
                            v.output16[at] = pe_conv16_output(v.p, v.bias, wide_taps ? acc64 : (int64_t)acc32, oc);
                        } else {
                            v.output8[at] = pe_conv8_output(v.p, v.bias, acc32, oc);
                        }
                    }
                }
            }
        }
    }
}

#endif /* PE_CONV_WALK_H */
