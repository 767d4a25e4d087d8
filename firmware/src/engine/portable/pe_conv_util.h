/* Shared prepare steps of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, int8 and 16x8
 * (TFLite's PopulateConvolutionQuantizationParams and fully_connected_common.cc), conv_common.c. */
#ifndef PE_CONV_UTIL_H
#define PE_CONV_UTIL_H

#include "pe_internal.h"

/* Per-channel multipliers for `channels` output channels, filter scales broadcast when the
 * filter is per-tensor. Fills p->multiplier / p->shift from the persistent region. */
hil_status pe_conv_quant_params(pe_state *s, int op_index, const pe_tensor *input,
                                const pe_tensor *filter, int filter_index, const pe_tensor *output,
                                int32_t channels, int32_t quantized_dim, int32_t **multiplier,
                                int32_t **shift);

/* CONV_2D / DEPTHWISE_CONV_2D prepare steps; `channel_dim` is the filter dimension of the
 * output channels (and of the per-channel scales): 0 for CONV_2D, 3 for DEPTHWISE_CONV_2D.
 * pe_conv_check_io: presence, types and quantization (input and output `type`, int8 filter; an
 * int8 op's INT32 bias), ranks 4. pe_conv_prepare_params: strides and dilations the window
 * kernels can index (pe_check_window), the output shape, p's strides, dilations, padding and
 * depth multiplier, the per-channel multipliers, the offsets (int8) and the activation range of
 * the output type (16x8: the 64-bit requantization's shift range when p->wide_bias, which
 * pe_bias16 set). */
hil_status pe_conv_check_io(pe_state *s, int op_index, uint8_t type, int channel_dim);
hil_status pe_conv_prepare_params(pe_state *s, int op_index, const pe_options *o, int channel_dim,
                                  pe_conv_params *p);
/* CONV_2D: input channels a whole number of filter groups, output channels of whole groups. */
hil_status pe_conv_check_groups(pe_state *s, int op_index);
/* DEPTHWISE_CONV_2D: depth multiplier >= 1, a [1, h, w, in_c * multiplier] filter. */
hil_status pe_depthwise_check_multiplier(pe_state *s, int op_index, const pe_options *o);

/* Input, int8 filter and output present, quantized, the input and output of `activation_type`. */
hil_status pe_check_weighted_io(pe_state *s, int op_index, uint8_t activation_type);
/* pe_check_weighted_io for int8, and an INT32 bias of `bias_elements` if there is one. */
hil_status pe_conv_check_tensors(pe_state *s, int op_index, int32_t bias_elements);

/* The optimized CONV_2D of conv_fast.c (one group): its scratch bytes and its eval. */
uint32_t pe_conv_fast_scratch_bytes(const pe_state *s, const pe_op *op);
void pe_conv_eval_fast(const pe_state *s, const pe_op *op);

/* The optimized FULLY_CONNECTED of fully_connected_fast.c (weights zero point 0). */
uint32_t pe_fully_connected_fast_scratch_bytes(const pe_fc_params *p);
void pe_fully_connected_eval_fast(const pe_state *s, const pe_op *op);

/* FULLY_CONNECTED (int8 and 16x8): the weights format, units, depth and batches against the
 * input and output; the multipliers, one per unit (per-channel weights) or one, with
 * GetQuantizedConvolutionMultipler's bias-scale check. Inline: each kernel file keeps its own
 * copy, so an ENGINE_INT16=0 image holds them once, inside the int8 prepare, as before. */
static inline hil_status pe_fc_shape(pe_state *s, int op_index, const pe_options *o, pe_fc_params *p)
{
    const pe_op *op = &s->ops[op_index];
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
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
    return HIL_OK;
}

static inline hil_status pe_fc_quant_params(pe_state *s, int op_index, pe_fc_params *p)
{
    const pe_op *op = &s->ops[op_index];
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    const pe_tensor *bias = (op->n_inputs > 2 && op->inputs[2] >= 0) ? &s->tensors[op->inputs[2]] : NULL;
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
    int sh = 0;
    if (!(product >= 0.0f) || !pe_quantize_multiplier((double)product / (double)out->scale, &p->multiplier[0], &sh)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->inputs[1], 0);
    }
    p->shift[0] = sh;
    return HIL_OK;
}

#endif /* PE_CONV_UTIL_H */
