/* CONV_2D, int8 with per-channel (or per-tensor) filter quantization.
 * Mirrors TFLM's conv_common.cc prepare and reference_integer_ops::ConvPerChannel. */
#include "pe_conv_util.h"
#include "pe_fixedpoint.h"

hil_status pe_conv_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_conv_params *p = &op->p.conv;
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    if ((st = pe_conv_check_ranks(s, op_index)) != HIL_OK ||
        (st = pe_conv_check_tensors(s, op_index, filter->dims[0])) != HIL_OK) {
        return st;
    }
    const int32_t out_c = filter->dims[0];
    if ((st = pe_conv_check_groups(s, op_index)) != HIL_OK ||
        (st = pe_conv_window(s, op_index, o, out_c, p)) != HIL_OK) {
        return st;
    }
    p->input_offset = -in->zero_point;
    p->output_offset = out->zero_point;
    if ((st = pe_conv_quant_params(s, op_index, in, filter, op->inputs[1], out, out_c, 0,
                                   &p->multiplier, &p->shift)) != HIL_OK) {
        return st;
    }
    if ((st = pe_activation_range(s, op_index, o->activation, out, &p->act_min, &p->act_max)) != HIL_OK) {
        return st;
    }
#ifndef PE_REFERENCE_KERNELS
    if (in->dims[3] == filter->dims[3]) { /* one group: the im2col + dual-MAC kernel of conv_fast.c */
        if ((st = pe_request_scratch(s, op_index, pe_conv_fast_scratch_bytes(s, op))) != HIL_OK) {
            return st;
        }
        op->eval = pe_conv_eval_fast;
    }
#endif
    return HIL_OK;
}

void pe_conv_eval(const pe_state *s, const pe_op *op)
{
    const pe_conv_params *p = &op->p.conv;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *filter = pe_in(s, op, 1);
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    const pe_tensor *out = pe_out(s, op);
    const int8_t *input_data = (const int8_t *)in->data;
    const int8_t *filter_data = (const int8_t *)filter->data;
    int8_t *output_data = (int8_t *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], in_c = in->dims[3];
    const int32_t filter_h = filter->dims[1], filter_w = filter->dims[2], filter_c = filter->dims[3];
    const int32_t out_h = out->dims[1], out_w = out->dims[2], out_c = out->dims[3];
    const int32_t groups = in_c / filter_c;
    const int32_t filters_per_group = out_c / groups;

    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int32_t group = oc / filters_per_group;
                    int32_t acc = 0;
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
                            const int8_t *in_px = input_data + (((b * in_h + iy) * in_w + ix) * in_c) +
                                                  group * filter_c;
                            const int8_t *f_px = filter_data + ((oc * filter_h + fy) * filter_w + fx) * filter_c;
                            for (int32_t ic = 0; ic < filter_c; ++ic) {
                                acc = pe_wrap_add(acc, (int32_t)f_px[ic] * ((int32_t)in_px[ic] + p->input_offset));
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc = pe_wrap_add(acc, hil_le_get_i32(bias->data + 4u * (uint32_t)oc));
                    }
                    acc = pe_mbqm(acc, p->multiplier[oc], p->shift[oc]);
                    acc = pe_wrap_add(acc, p->output_offset);
                    output_data[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                        (int8_t)pe_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
