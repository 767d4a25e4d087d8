/*
 * Prepare steps the 16x8 kernels share (int16 activation range, bias type, shift range of the
 * 64-bit requantization) and RESHAPE / SQUEEZE / EXPAND_DIMS of int16 tensors.
 */

#include "pe_int16.h"

hil_status pe_reshape16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    (void)o;
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT16)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT16)) != HIL_OK) {
        return st;
    }
    if (s->tensors[op->inputs[0]].elements != s->tensors[op->output].elements) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, (int32_t)s->tensors[op->output].elements);
    }
    return HIL_OK;
}

hil_status pe_activation_range16(pe_state *s, int op_index, int32_t activation, const pe_tensor *out,
                                 int32_t *act_min, int32_t *act_max)
{
    return pe_activation_range_q(s, op_index, activation, out, -32768, 32767, act_min, act_max);
}

hil_status pe_bias16(pe_state *s, int op_index, int32_t elements, int allow_int32,
                     int32_t quantized_bias_type, int32_t *wide)
{
    const pe_op *op = &s->ops[op_index];
    if (op->n_inputs < 3 || op->inputs[2] < 0) {
        *wide = !(allow_int32 && quantized_bias_type == PE_TYPE_INT32);
        return HIL_OK;
    }
    const pe_tensor *bias = &s->tensors[op->inputs[2]];
    if (bias->type != PE_TYPE_INT64 && !(allow_int32 && bias->type == PE_TYPE_INT32)) {
        return pe_fail(s, HIL_ERR_UNSUPPORTED_TYPE, op_index, op->inputs[2], bias->type);
    }
    if ((int32_t)bias->elements != elements || !bias->is_const) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[2], (int32_t)bias->elements);
    }
    *wide = bias->type == PE_TYPE_INT64;
    return HIL_OK;
}

hil_status pe_check_shift64(pe_state *s, int op_index, int tensor, const int32_t *shift, int32_t count)
{
    for (int32_t c = 0; c < count; ++c) {
        if (shift[c] > 14 || shift[c] < -48) {
            return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, tensor, c);
        }
    }
    return HIL_OK;
}
