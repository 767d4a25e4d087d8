#include "pe_conv_util.h"

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

hil_status pe_conv_check_tensors(pe_state *s, int op_index, int32_t bias_elements)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->inputs[1], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[1])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK) {
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
