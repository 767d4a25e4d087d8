/* FULLY_CONNECTED, int8, per-tensor or per-channel weights. Mirrors TFLM's
 * fully_connected_common.cc prepare and reference_integer_ops::FullyConnected(PerChannel). */
#include "pe_conv_util.h"
#include "pe_fixedpoint.h"

static hil_status pe_fc_quant(pe_state *s, int op_index, const pe_tensor *in, const pe_tensor *filter,
                              const pe_tensor *bias, const pe_tensor *out, pe_fc_params *p)
{
    const pe_op *op = &s->ops[op_index];
    p->per_channel = filter->n_scales > 1;
    if (p->per_channel) {
        return pe_conv_quant_params(s, op_index, in, filter, op->inputs[1], out, p->units, 0,
                                    &p->multiplier, &p->shift);
    }
    if (bias != NULL) {
        /* GetQuantizedConvolutionMultipler's sanity check on the bias scale. */
        const double input_product_scale = (double)in->scale * (double)filter->scale;
        const double bias_scale = bias->quantized ? (double)bias->scale : 0.0;
        const double diff = input_product_scale > bias_scale ? input_product_scale - bias_scale
                                                             : bias_scale - input_product_scale;
        if (!(diff / (double)out->scale <= 0.02)) {
            return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->inputs[2], 0);
        }
    }
    p->multiplier = pe_persist_i32(s, 1);
    p->shift = pe_persist_i32(s, 1);
    if (p->multiplier == NULL || p->shift == NULL) {
        return pe_fail(s, HIL_ERR_ARENA_TOO_SMALL, op_index, -1, 0);
    }
    /* TFLite multiplies the two float scales in float before widening to double. */
    const float product = in->scale * filter->scale;
    const double real = (double)product / (double)out->scale;
    int sh = 0;
    if (!(product >= 0.0f) || !pe_quantize_multiplier(real, &p->multiplier[0], &sh)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->inputs[1], 0);
    }
    p->shift[0] = sh;
    return HIL_OK;
}

hil_status pe_fully_connected_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_fc_params *p = &op->p.fc;
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    const pe_tensor *bias = (op->n_inputs > 2 && op->inputs[2] >= 0) ? &s->tensors[op->inputs[2]] : NULL;
    if ((st = pe_expect_rank(s, op_index, op->inputs[1], 2)) != HIL_OK ||
        (st = pe_conv_check_tensors(s, op_index, filter->dims[0])) != HIL_OK) {
        return st;
    }
    if (o->weights_format != 0) { /* only the DEFAULT weights format */
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[1], o->weights_format);
    }
    p->units = filter->dims[0];
    p->accum_depth = filter->dims[1];
    if (out->rank < 1 || out->dims[out->rank - 1] != p->units) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, 0);
    }
    p->batches = (int32_t)(out->elements / (uint32_t)p->units);
    if ((uint64_t)p->batches * (uint64_t)p->accum_depth != in->elements) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[0], (int32_t)in->elements);
    }
    p->input_offset = -in->zero_point;
    p->filter_offset = -filter->zero_point;
    p->output_offset = out->zero_point;
    if ((st = pe_fc_quant(s, op_index, in, filter, bias, out, p)) != HIL_OK) {
        return st;
    }
    if ((st = pe_activation_range(s, op_index, o->activation, out, &p->act_min, &p->act_max)) != HIL_OK) {
        return st;
    }
#ifndef PE_REFERENCE_KERNELS
    if (p->filter_offset == 0) { /* fully_connected_fast.c */
        if ((st = pe_request_scratch(s, op_index, pe_fully_connected_fast_scratch_bytes(p))) != HIL_OK) {
            return st;
        }
        op->eval = pe_fully_connected_eval_fast;
    }
#endif
    return HIL_OK;
}

void pe_fully_connected_eval(const pe_state *s, const pe_op *op)
{
    const pe_fc_params *p = &op->p.fc;
    const int8_t *input_data = (const int8_t *)pe_in(s, op, 0)->data;
    const int8_t *filter_data = (const int8_t *)pe_in(s, op, 1)->data;
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    int8_t *output_data = (int8_t *)pe_out(s, op)->data;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_row = input_data + b * p->accum_depth;
        for (int32_t u = 0; u < p->units; ++u) {
            const int8_t *f_row = filter_data + u * p->accum_depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < p->accum_depth; ++d) {
                acc = pe_wrap_add(acc, ((int32_t)f_row[d] + p->filter_offset) *
                                           ((int32_t)in_row[d] + p->input_offset));
            }
            if (bias != NULL) {
                acc = pe_wrap_add(acc, hil_le_get_i32(bias->data + 4u * (uint32_t)u));
            }
            const int ch = p->per_channel ? u : 0;
            acc = pe_mbqm(acc, p->multiplier[ch], p->shift[ch]);
            acc = pe_wrap_add(acc, p->output_offset);
            output_data[b * p->units + u] = (int8_t)pe_clamp(acc, p->act_min, p->act_max);
        }
    }
}
