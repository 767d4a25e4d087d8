/*
 * Prepare steps the 16x8 kernels share (int16 activation range, bias type, shift range of the
 * 64-bit requantization) and RESHAPE / SQUEEZE / EXPAND_DIMS of int16 tensors.
 */
#include <math.h>

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

/* The Quantize() lambda of CalculateActivationRangeQuantizedImpl, in float like TFLite. */
static int pe_quantize_bound16(float scale, int32_t zero_point, float value, int32_t *q)
{
    const float tmp = roundf(value / scale);
    if (!(tmp >= -2147483648.0f && tmp < 2147483648.0f)) {
        return 0;
    }
    *q = zero_point + (int32_t)tmp;
    return 1;
}

hil_status pe_activation_range16(pe_state *s, int op_index, int32_t activation, const pe_tensor *out,
                                 int32_t *act_min, int32_t *act_max)
{
    const int32_t qmin = -32768;
    const int32_t qmax = 32767;
    int32_t lo = qmin;
    int32_t hi = qmax;
    int ok = 1;
    switch (activation) {
    case PE_ACT_NONE:
        break;
    case PE_ACT_RELU:
        ok = pe_quantize_bound16(out->scale, out->zero_point, 0.0f, &lo);
        break;
    case PE_ACT_RELU6:
        ok = pe_quantize_bound16(out->scale, out->zero_point, 0.0f, &lo) &&
             pe_quantize_bound16(out->scale, out->zero_point, 6.0f, &hi);
        break;
    case PE_ACT_RELU_N1_TO_1:
        ok = pe_quantize_bound16(out->scale, out->zero_point, -1.0f, &lo) &&
             pe_quantize_bound16(out->scale, out->zero_point, 1.0f, &hi);
        break;
    default:
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, activation);
    }
    if (!ok) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, -1, activation);
    }
    *act_min = lo > qmin ? lo : qmin;
    *act_max = hi < qmax ? hi : qmax;
    return HIL_OK;
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
