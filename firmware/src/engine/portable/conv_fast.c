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
    const uint32_t weights = (uint32_t)filter->dims[0] * k;
    const uint32_t column = pe_conv_is_1xn(in, filter, &op->p.conv)
                                ? (uint32_t)(pe_conv_1xn_rows(in, filter, out, &op->p.conv) * in->dims[3])
                                : k;
    return 2u * (weights + ((column + 1u) & ~1u)) + 4u;
}

/* One output position: `column` holds k int16 values; writes out_c int8 outputs. */
static void pe_conv_position(const pe_conv_params *p, const int16_t *column, const int16_t *weights,
                             int32_t k, int32_t out_c, const uint8_t *bias, int8_t *out)
{
    const int32_t pairs = k >> 1;
    int32_t oc = 0;
    for (; oc + 1 < out_c; oc += 2) {
        const int16_t *w0 = weights + oc * k;
        const int16_t *w1 = w0 + k;
        int32_t acc0 = 0, acc1 = 0;
        const int16_t *c = column;
        for (int32_t j = 0; j < pairs; ++j) {
            acc0 = pe_dot2(w0, c, acc0);
            acc1 = pe_dot2(w1, c, acc1);
            w0 += 2;
            w1 += 2;
            c += 2;
        }
        if (k & 1) {
            acc0 = pe_wrap_add(acc0, (int32_t)*w0 * *c);
            acc1 = pe_wrap_add(acc1, (int32_t)*w1 * *c);
        }
        if (bias != NULL) {
            acc0 = pe_wrap_add(acc0, pe_ld_i32(bias + 4u * (uint32_t)oc));
            acc1 = pe_wrap_add(acc1, pe_ld_i32(bias + 4u * (uint32_t)(oc + 1)));
        }
        acc0 = pe_wrap_add(pe_mbqm(acc0, p->multiplier[oc], p->shift[oc]), p->output_offset);
        acc1 = pe_wrap_add(pe_mbqm(acc1, p->multiplier[oc + 1], p->shift[oc + 1]), p->output_offset);
        out[oc] = (int8_t)pe_clamp(acc0, p->act_min, p->act_max);
        out[oc + 1] = (int8_t)pe_clamp(acc1, p->act_min, p->act_max);
    }
    if (oc < out_c) {
        const int16_t *w0 = weights + oc * k;
        int32_t acc0 = 0;
        for (int32_t j = 0; j < pairs; ++j) {
            acc0 = pe_dot2(w0 + 2 * j, column + 2 * j, acc0);
        }
        if (k & 1) {
            acc0 = pe_wrap_add(acc0, (int32_t)w0[k - 1] * column[k - 1]);
        }
        if (bias != NULL) {
            acc0 = pe_wrap_add(acc0, pe_ld_i32(bias + 4u * (uint32_t)oc));
        }
        acc0 = pe_wrap_add(pe_mbqm(acc0, p->multiplier[oc], p->shift[oc]), p->output_offset);
        out[oc] = (int8_t)pe_clamp(acc0, p->act_min, p->act_max);
    }
}

void pe_conv_eval_fast(const pe_state *s, const pe_op *op)
{
    const pe_conv_params *p = &op->p.conv;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *bias_t = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    const pe_tensor *out = pe_out(s, op);
    const uint8_t *bias = bias_t != NULL ? bias_t->data : NULL;
    const int8_t *input = (const int8_t *)in->data;
    int8_t *output = (int8_t *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], in_c = in->dims[3];
    const int32_t filter_h = filter->dims[1], filter_w = filter->dims[2];
    const int32_t out_h = out->dims[1], out_w = out->dims[2], out_c = out->dims[3];
    const int32_t k = filter_h * filter_w * in_c;

    /* Filter widened to int16, [out_c][k]; then the column area (4-byte aligned). */
    int16_t *weights = (int16_t *)(void *)s->scratch;
    const int8_t *filter_data = (const int8_t *)filter->data;
    for (int32_t i = 0; i < out_c * k; ++i) {
        weights[i] = filter_data[i];
    }
    int16_t *column = weights + ((out_c * k + 1) & ~1);
    const int16_t offset = (int16_t)p->input_offset;

    if (pe_conv_is_1xn(in, filter, p)) {
        const int32_t rows = pe_conv_1xn_rows(in, filter, out, p);
        for (int32_t b = 0; b < batches; ++b) {
            const int8_t *src = input + b * in_h * in_c;
            for (int32_t i = 0; i < rows * in_c; ++i) {
                const int32_t row = i / in_c - p->pad_h;
                column[i] = (row >= 0 && row < in_h) ? (int16_t)(src[i - p->pad_h * in_c] + offset) : 0;
            }
            for (int32_t oy = 0; oy < out_h; ++oy) {
                pe_conv_position(p, column + oy * p->stride_h * in_c, weights, k, out_c, bias,
                                 output + (b * out_h + oy) * out_c);
            }
        }
        return;
    }
    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                int16_t *c = column;
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
                pe_conv_position(p, column, weights, k, out_c, bias,
                                 output + ((b * out_h + oy) * out_w + ox) * out_c);
            }
        }
    }
}

#endif /* PE_REFERENCE_KERNELS */
