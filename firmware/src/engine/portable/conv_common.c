#include "pe_conv_util.h"
#include "pe_int16.h"

hil_status pe_conv_quant_params(pe_state *s, int op_index, const pe_tensor *input,
                                const pe_tensor *filter, int filter_index, const pe_tensor *output,
                                int32_t channels, int32_t quantized_dim, int32_t **multiplier,
                                int32_t **shift)
{
    const int per_channel = filter->n_scales > 1;
    if (per_channel && ((int32_t)filter->n_scales != channels || filter->quantized_dim != quantized_dim)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, filter_index, (int32_t)filter->n_scales);
    }
    *multiplier = pe_persist_i32(s, (uint32_t)channels);
    *shift = pe_persist_i32(s, (uint32_t)channels);
    if (*multiplier == NULL || *shift == NULL) {
        return pe_fail(s, HIL_ERR_ARENA_TOO_SMALL, op_index, -1, 0);
    }
    for (int32_t c = 0; c < channels; ++c) {
        const float filter_scale = fb_ld_f32(filter->scales + 4u * (per_channel ? (uint32_t)c : 0u));
        /* Same expression and evaluation order as TFLite: double(in) * double(filter) / double(out). */
        const double effective = (double)input->scale * (double)filter_scale / (double)output->scale;
        int32_t m = 0;
        int sh = 0;
        if (!(filter_scale > 0.0f) || !pe_quantize_multiplier(effective, &m, &sh)) {
            return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, filter_index, c);
        }
        (*multiplier)[c] = m;
        (*shift)[c] = sh;
    }
    return HIL_OK;
}

hil_status pe_check_weighted_io(pe_state *s, int op_index, uint8_t activation_type)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    if ((st = pe_expect_type(s, op_index, op->inputs[0], activation_type)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->inputs[1], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, activation_type)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[1])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK) {
        return st;
    }
    return HIL_OK;
}

hil_status pe_conv_check_tensors(pe_state *s, int op_index, int32_t bias_elements)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    if ((st = pe_check_weighted_io(s, op_index, PE_TYPE_INT8)) != HIL_OK) {
        return st;
    }
    if (op->n_inputs > 2 && op->inputs[2] >= 0) {
        const pe_tensor *bias = &s->tensors[op->inputs[2]];
        if ((st = pe_expect_type(s, op_index, op->inputs[2], PE_TYPE_INT32)) != HIL_OK) {
            return st;
        }
        if ((int32_t)bias->elements != bias_elements) {
            return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[2], (int32_t)bias->elements);
        }
    }
    return HIL_OK;
}

hil_status pe_conv_prepare_params(pe_state *s, int op_index, const pe_options *o, int channel_dim, pe_conv_params *p)
{
    const pe_op *op = &s->ops[op_index];
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    const int32_t out_c = filter->dims[channel_dim];
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
    p->depth_multiplier = o->depth_multiplier; /* DEPTHWISE_CONV_2D's; 0 in CONV_2D's options */
    if (out->type == PE_TYPE_INT8) {
        p->input_offset = -in->zero_point;
        p->output_offset = out->zero_point;
    }
    if ((st = pe_conv_quant_params(s, op_index, in, filter, op->inputs[1], out, out_c, channel_dim,
                                   &p->multiplier, &p->shift)) != HIL_OK) {
        return st;
    }
#if PE_WITH_INT16
    if (out->type == PE_TYPE_INT16) {
        if (p->wide_bias && (st = pe_check_shift64(s, op_index, op->inputs[1], p->shift, out_c)) != HIL_OK) {
            return st;
        }
        return pe_activation_range16(s, op_index, o->activation, out, &p->act_min, &p->act_max);
    }
#endif
    return pe_activation_range(s, op_index, o->activation, out, &p->act_min, &p->act_max);
}

hil_status pe_conv_check_groups(pe_state *s, int op_index)
{
    const pe_op *op = &s->ops[op_index];
    const int32_t in_c = s->tensors[op->inputs[0]].dims[3];
    const int32_t out_c = s->tensors[op->inputs[1]].dims[0];
    const int32_t filter_c = s->tensors[op->inputs[1]].dims[3];
    if (in_c % filter_c != 0 || out_c % (in_c / filter_c) != 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[1], filter_c);
    }
    return HIL_OK;
}

hil_status pe_depthwise_check_multiplier(pe_state *s, int op_index, const pe_options *o)
{
    const pe_op *op = &s->ops[op_index];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    if (o->depth_multiplier < 1) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, o->depth_multiplier);
    }
    if (filter->dims[0] != 1 || (int64_t)s->tensors[op->inputs[0]].dims[3] * o->depth_multiplier != filter->dims[3]) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[1], o->depth_multiplier);
    }
    return HIL_OK;
}

/* Input, filter and output of rank 4. */
static hil_status pe_conv_check_ranks(pe_state *s, int op_index)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    if ((st = pe_expect_rank(s, op_index, op->inputs[0], 4)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->inputs[1], 4)) != HIL_OK) {
        return st;
    }
    return pe_expect_rank(s, op_index, op->output, 4);
}

hil_status pe_conv_check_io(pe_state *s, int op_index, uint8_t type, int channel_dim)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    if (type != PE_TYPE_INT8) { /* 16x8: types, then ranks; the bias is pe_bias16's */
        st = pe_check_weighted_io(s, op_index, type);
        return st != HIL_OK ? st : pe_conv_check_ranks(s, op_index);
    }
    st = pe_conv_check_ranks(s, op_index);
    return st != HIL_OK ? st : pe_conv_check_tensors(s, op_index, s->tensors[op->inputs[1]].dims[channel_dim]);
}
