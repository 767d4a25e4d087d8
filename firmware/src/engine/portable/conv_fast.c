/*
 * CONV_2D int8, optimized (as TFLM keeps cmsis_nn/conv.cc beside reference conv): same bytes as
 * the reference kernel in conv.c, which stays the oracle (PE_REFERENCE_KERNELS builds only it).
 *
 * Per invocation the filter is widened once to int16 in the scratch region; per output position
 * the receptive field goes into an int16 column with the input offset added and zeros where
 * the window leaves the input (im2col), so the inner loop is two int16 dot products per two
 * output channels with dual MACs (pe_dot2: SMLAD on the M4). For the 1xN case (input and
 * filter width 1, dilation 1) consecutive columns overlap: the whole input is widened once
 * into a zero-padded int16 copy and each column is a pointer into it.
 * Requantization uses the per-channel multipliers of prepare. Groups > 1 use the reference.
 */
#include "pe_conv_util.h"
#include "pe_dsp.h"
#include "pe_fixedpoint.h"

#ifndef PE_REFERENCE_KERNELS

static int pe_conv_is_1xn(const pe_tensor *in, const pe_tensor *filter, const pe_conv_params *p)
{
    return in->dims[2] == 1 && filter->dims[2] == 1 && p->dilation_h == 1;
}

/* Rows of the zero-padded int16 input copy of the 1xN path: from -pad_h to the last row any
 * window reads. */
static int32_t pe_conv_1xn_rows(const pe_tensor *in, const pe_tensor *filter, const pe_tensor *out,
                                const pe_conv_params *p)
{
    const int32_t last = (out->dims[1] - 1) * p->stride_h - p->pad_h + filter->dims[1];
    return (last > in->dims[1] ? last : in->dims[1]) + p->pad_h;
}

uint32_t pe_conv_fast_scratch_bytes(const pe_state *s, const pe_op *op)
{
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *out = pe_out(s, op);
    const uint32_t k = (uint32_t)(filter->dims[1] * filter->dims[2] * filter->dims[3]);
    const uint32_t out_c = (uint32_t)filter->dims[0];
    const uint32_t column = pe_conv_is_1xn(in, filter, &op->p.conv)
                                ? (uint32_t)(pe_conv_1xn_rows(in, filter, out, &op->p.conv) * in->dims[3])
                                : 2u * k;
    return 4u * out_c + 2u * (((out_c * k + 1u) & ~1u) + column);
}

/* tflite::MultiplyByQuantizedMultiplier, the zero point and the clamp, inlined here (the
 * shared pe_mbqm is a call at -Os). Multipliers from prepare are in [2^30, 2^31). */
static inline __attribute__((always_inline)) int8_t pe_conv_requant(const pe_conv_params *p, int32_t acc,
                                                                    int32_t oc)
{
    const int32_t shift = p->shift[oc];
    const int64_t ab = (int64_t)pe_wrap_shl(acc, shift > 0 ? shift : 0) * (int64_t)p->multiplier[oc];
    const int32_t high = (int32_t)((ab + (ab >= 0 ? (1 << 30) : (1 - (1 << 30)))) / ((int64_t)1 << 31));
    const int32_t v = pe_wrap_add(pe_rdbypot(high, shift > 0 ? 0 : -shift), p->output_offset);
    return (int8_t)(v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v));
}

/* Two output positions (columns c0, c1 of k int16 values) x all output channels, two channels
 * at a time: every loaded column pair and weight pair feeds two dual MACs. out1 NULL: one
 * position (c1 is then c0, computed and dropped). */
__attribute__((optimize("O2"))) static void pe_conv_block(const pe_conv_params *p, const int16_t *c0, const int16_t *c1,
                          const int16_t *weights, const int32_t *bias, int32_t k, int32_t out_c,
                          int8_t *out0, int8_t *out1)
{
    const int32_t pairs = k >> 1;
    int32_t oc = 0;
    for (; oc < out_c; oc += 2) {
        const int last = oc + 1 >= out_c; /* odd channel count: the second row repeats the first */
        const int16_t *w0 = weights + oc * k;
        const int16_t *w1 = last ? w0 : w0 + k;
        const int16_t *a0 = c0, *a1 = c1;
        int32_t acc00 = bias[oc], acc01 = bias[oc];
        int32_t acc10 = bias[last ? oc : oc + 1], acc11 = acc10;
        for (int32_t j = pairs; j > 0; --j) {
            acc00 = pe_dot2(w0, a0, acc00);
            acc01 = pe_dot2(w0, a1, acc01);
            acc10 = pe_dot2(w1, a0, acc10);
            acc11 = pe_dot2(w1, a1, acc11);
            w0 += 2;
            w1 += 2;
            a0 += 2;
            a1 += 2;
        }
        if (k & 1) {
            acc00 = pe_wrap_add(acc00, (int32_t)*w0 * *a0);
            acc01 = pe_wrap_add(acc01, (int32_t)*w0 * *a1);
            acc10 = pe_wrap_add(acc10, (int32_t)*w1 * *a0);
            acc11 = pe_wrap_add(acc11, (int32_t)*w1 * *a1);
        }
        out0[oc] = pe_conv_requant(p, acc00, oc);
        if (out1 != NULL) {
            out1[oc] = pe_conv_requant(p, acc01, oc);
        }
        if (!last) {
            out0[oc + 1] = pe_conv_requant(p, acc10, oc + 1);
            if (out1 != NULL) {
                out1[oc + 1] = pe_conv_requant(p, acc11, oc + 1);
            }
        }
    }
}

/* The receptive field of output (oy, ox) of batch b as k int16 values, input offset added,
 * zero outside the input. */
static void pe_conv_im2col(const pe_conv_params *p, const int8_t *input, int32_t b, int32_t in_h, int32_t in_w,
                           int32_t in_c, int32_t filter_h, int32_t filter_w, int32_t oy, int32_t ox,
                           int16_t *c)
{
    const int32_t in_y0 = oy * p->stride_h - p->pad_h;
    const int32_t in_x0 = ox * p->stride_w - p->pad_w;
    const int16_t offset = (int16_t)p->input_offset;
    for (int32_t fy = 0; fy < filter_h; ++fy) {
        const int32_t iy = in_y0 + p->dilation_h * fy;
        for (int32_t fx = 0; fx < filter_w; ++fx) {
            const int32_t ix = in_x0 + p->dilation_w * fx;
            if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    c[ic] = 0;
                }
            } else {
                const int8_t *px = input + ((b * in_h + iy) * in_w + ix) * in_c;
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    c[ic] = (int16_t)(px[ic] + offset);
                }
            }
            c += in_c;
        }
    }
}

void pe_conv_eval_fast(const pe_state *s, const pe_op *op)
{
    const pe_conv_params *p = &op->p.conv;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *bias_t = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    const pe_tensor *out = pe_out(s, op);
    const int8_t *input = (const int8_t *)in->data;
    int8_t *output = (int8_t *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], in_c = in->dims[3];
    const int32_t filter_h = filter->dims[1], filter_w = filter->dims[2];
    const int32_t out_h = out->dims[1], out_w = out->dims[2], out_c = out->dims[3];
    const int32_t k = filter_h * filter_w * in_c;

    /* Scratch: bias as int32 [out_c] | filter widened to int16 [out_c][k] | columns. */
    int32_t *bias = (int32_t *)(void *)s->scratch;
    for (int32_t oc = 0; oc < out_c; ++oc) {
        bias[oc] = bias_t != NULL ? hil_le_get_i32(bias_t->data + 4u * (uint32_t)oc) : 0;
    }
    int16_t *weights = (int16_t *)(void *)(bias + out_c);
    const int8_t *filter_data = (const int8_t *)filter->data;
    for (int32_t i = 0; i < out_c * k; ++i) {
        weights[i] = filter_data[i];
    }
    int16_t *column = weights + ((out_c * k + 1) & ~1);

    if (pe_conv_is_1xn(in, filter, p)) {
        const int32_t rows = pe_conv_1xn_rows(in, filter, out, p);
        const int32_t step = p->stride_h * in_c;
        const int16_t offset = (int16_t)p->input_offset;
        for (int32_t b = 0; b < batches; ++b) {
            int16_t *dst = column;
            for (int32_t row = -p->pad_h; row < rows - p->pad_h; ++row) {
                if (row >= 0 && row < in_h) {
                    const int8_t *src = input + (b * in_h + row) * in_c;
                    for (int32_t ic = 0; ic < in_c; ++ic) {
                        *dst++ = (int16_t)(src[ic] + offset);
                    }
                } else {
                    for (int32_t ic = 0; ic < in_c; ++ic) {
                        *dst++ = 0;
                    }
                }
            }
            int8_t *o = output + b * out_h * out_c;
            int32_t oy = 0;
            for (; oy + 1 < out_h; oy += 2) {
                const int16_t *c0 = column + oy * step;
                pe_conv_block(p, c0, c0 + step, weights, bias, k, out_c, o + oy * out_c, o + (oy + 1) * out_c);
            }
            if (oy < out_h) {
                const int16_t *c0 = column + oy * step;
                pe_conv_block(p, c0, c0, weights, bias, k, out_c, o + oy * out_c, NULL);
            }
        }
        return;
    }
    const int32_t positions = out_h * out_w;
    for (int32_t b = 0; b < batches; ++b) {
        int8_t *o = output + b * positions * out_c;
        for (int32_t i = 0; i < positions; i += 2) {
            const int two = i + 1 < positions;
            pe_conv_im2col(p, input, b, in_h, in_w, in_c, filter_h, filter_w, i / out_w, i % out_w, column);
            if (two) {
                pe_conv_im2col(p, input, b, in_h, in_w, in_c, filter_h, filter_w, (i + 1) / out_w, (i + 1) % out_w,
                               column + k);
            }
            pe_conv_block(p, column, two ? column + k : column, weights, bias, k, out_c, o + i * out_c,
                          two ? o + (i + 1) * out_c : NULL);
        }
    }
}

#endif /* PE_REFERENCE_KERNELS */
