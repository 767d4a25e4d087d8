/* DEPTHWISE_CONV_2D, int8 per-channel. Mirrors TFLM's depthwise_conv_common.cc prepare and
 * reference_integer_ops::DepthwiseConvPerChannel. */
#include "pe_conv_util.h"
#include "pe_fixedpoint.h"

hil_status pe_depthwise_conv_prepare(pe_state *s, int op_index, const pe_options *o)
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
        (st = pe_conv_check_tensors(s, op_index, filter->dims[3])) != HIL_OK) {
        return st;
    }
    const int32_t out_c = filter->dims[3];
    if ((st = pe_depthwise_check_multiplier(s, op_index, o)) != HIL_OK ||
        (st = pe_conv_window(s, op_index, o, out_c, p)) != HIL_OK) {
        return st;
    }
    p->depth_multiplier = o->depth_multiplier;
    p->input_offset = -in->zero_point;
    p->output_offset = out->zero_point;
    if ((st = pe_conv_quant_params(s, op_index, in, filter, op->inputs[1], out, out_c, 3,
                                   &p->multiplier, &p->shift)) != HIL_OK) {
        return st;
    }
    return pe_activation_range(s, op_index, o->activation, out, &p->act_min, &p->act_max);
}

void pe_depthwise_conv_eval(const pe_state *s, const pe_op *op)
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
                                const int32_t input_val = input_data[((b * in_h + iy) * in_w + ix) * in_c + ic];
                                const int32_t filter_val = filter_data[(fy * filter_w + fx) * out_c + oc];
                                acc = pe_wrap_add(acc, filter_val * (input_val + p->input_offset));
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
}
