/* CONV_2D and DEPTHWISE_CONV_2D, 16x8: int16 input/output, int8 per-channel (or per-tensor)
 * filter, int64 bias. Mirrors TFLM's conv.cc / depthwise_conv.cc for kTfLiteInt16 and
 * reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel (int16 overloads): no input or
 * output offset (zero point 0), int64 accumulator and the 64-bit requantization. A CONV_2D with an
 * INT32 bias (or none and quantized_bias_type INT32) accumulates in int32 and requantizes with the
 * 32-bit MultiplyByQuantizedMultiplier, as TFLM's AccumScalar = int32_t instantiation does. */
#include "pe_conv_util.h"
#include "pe_int16.h"

/* Types, quantization and ranks of input, filter and output; shapes are the caller's. */
static hil_status pe_conv16_check(pe_state *s, int op_index)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT16)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->inputs[1], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT16)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[1])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->inputs[0], 4)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->inputs[1], 4)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->output, 4)) != HIL_OK) {
        return st;
    }
    return HIL_OK;
}

/* Window, output shape and padding shared by both ops. */
static hil_status pe_conv16_geometry(pe_state *s, int op_index, const pe_options *o, int32_t out_c,
                                     pe_conv16_params *p)
{
    const pe_op *op = &s->ops[op_index];
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    hil_status st;
    if ((st = pe_check_window(s, op_index, filter->dims[1], o->stride_h, o->dilation_h)) != HIL_OK ||
        (st = pe_check_window(s, op_index, filter->dims[2], o->stride_w, o->dilation_w)) != HIL_OK) {
        return st;
    }
    const int32_t out_h = pe_compute_out_size(o->padding, in->dims[1], filter->dims[1], o->stride_h, o->dilation_h);
    const int32_t out_w = pe_compute_out_size(o->padding, in->dims[2], filter->dims[2], o->stride_w, o->dilation_w);
    if (out->dims[0] != in->dims[0] || out->dims[1] != out_h || out->dims[2] != out_w ||
        out->dims[3] != out_c) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, 0);
    }
    p->stride_w = o->stride_w;
    p->stride_h = o->stride_h;
    p->dilation_w = o->dilation_w;
    p->dilation_h = o->dilation_h;
    p->pad_h = pe_compute_padding(o->stride_h, o->dilation_h, in->dims[1], filter->dims[1], out_h);
    p->pad_w = pe_compute_padding(o->stride_w, o->dilation_w, in->dims[2], filter->dims[2], out_w);
    return HIL_OK;
}

static hil_status pe_conv16_quant(pe_state *s, int op_index, const pe_options *o, int32_t out_c,
                                  int32_t quantized_dim, pe_conv16_params *p)
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
    pe_conv16_params *p = &op->p.i16.conv;
    hil_status st;
    if ((st = pe_conv16_check(s, op_index)) != HIL_OK) {
        return st;
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const int32_t out_c = filter->dims[0];
    const int32_t filter_c = filter->dims[3];
    if (in->dims[3] % filter_c != 0 || out_c % (in->dims[3] / filter_c) != 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[1], filter_c);
    }
    if ((st = pe_bias16(s, op_index, out_c, 1, o->quantized_bias_type, &p->wide_bias)) != HIL_OK ||
        (st = pe_conv16_geometry(s, op_index, o, out_c, p)) != HIL_OK) {
        return st;
    }
    return pe_conv16_quant(s, op_index, o, out_c, 0, p);
}

hil_status pe_depthwise_conv16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_conv16_params *p = &op->p.i16.conv;
    hil_status st;
    if ((st = pe_conv16_check(s, op_index)) != HIL_OK) {
        return st;
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const int32_t out_c = filter->dims[3];
    if (o->depth_multiplier < 1) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, o->depth_multiplier);
    }
    if (filter->dims[0] != 1 || (int64_t)in->dims[3] * o->depth_multiplier != out_c) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[1], o->depth_multiplier);
    }
    /* TFLM's int16 depthwise reads the bias as int64 whatever its type: only INT64 is safe. */
    if ((st = pe_bias16(s, op_index, out_c, 0, 0, &p->wide_bias)) != HIL_OK ||
        (st = pe_conv16_geometry(s, op_index, o, out_c, p)) != HIL_OK) {
        return st;
    }
    p->depth_multiplier = o->depth_multiplier;
    return pe_conv16_quant(s, op_index, o, out_c, 3, p);
}

static inline int16_t pe_conv16_output(const pe_conv16_params *p, const pe_tensor *bias, int64_t acc64,
                                       int32_t acc32, int32_t oc)
{
    int32_t scaled;
    if (p->wide_bias) {
        if (bias != NULL) {
            acc64 = pe_wrap_add64(acc64, pe_ld_i64(bias->data + 8u * (uint32_t)oc));
        }
        scaled = pe_mbqm64(acc64, p->multiplier[oc], p->shift[oc]);
    } else {
        if (bias != NULL) {
            acc32 = pe_wrap_add(acc32, pe_ld_i32(bias->data + 4u * (uint32_t)oc));
        }
        scaled = pe_mbqm(acc32, p->multiplier[oc], p->shift[oc]);
    }
    return (int16_t)pe_clamp(scaled, p->act_min, p->act_max);
}

void pe_conv16_eval(const pe_state *s, const pe_op *op)
{
    const pe_conv16_params *p = &op->p.i16.conv;
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
                    const int32_t group = oc / filters_per_group;
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
                            const int16_t *in_px = input_data + (((b * in_h + iy) * in_w + ix) * in_c) +
                                                   group * filter_c;
                            const int8_t *f_px = filter_data + ((oc * filter_h + fy) * filter_w + fx) * filter_c;
                            /* |int8 * int16| < 2^22: the products never overflow int32. */
                            if (p->wide_bias) {
                                for (int32_t ic = 0; ic < filter_c; ++ic) {
                                    acc64 += (int32_t)f_px[ic] * (int32_t)in_px[ic];
                                }
                            } else {
                                for (int32_t ic = 0; ic < filter_c; ++ic) {
                                    acc32 = pe_wrap_add(acc32, (int32_t)f_px[ic] * (int32_t)in_px[ic]);
                                }
                            }
                        }
                    }
                    output_data[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                        pe_conv16_output(p, bias, acc64, acc32, oc);
                }
            }
        }
    }
}

void pe_depthwise_conv16_eval(const pe_state *s, const pe_op *op)
{
    const pe_conv16_params *p = &op->p.i16.conv;
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
                        int64_t acc = 0;
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
                                acc += (int32_t)filter_data[(fy * filter_w + fx) * out_c + oc] *
                                       (int32_t)input_data[((b * in_h + iy) * in_w + ix) * in_c + ic];
                            }
                        }
                        output_data[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                            pe_conv16_output(p, bias, acc, 0, oc);
                    }
                }
            }
        }
    }
}
