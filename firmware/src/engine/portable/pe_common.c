/*
 * Prepare-time helpers shared by the kernels: error reporting, the persistent allocator, type
 * and shape checks, and TFLite's quantization arithmetic (QuantizeMultiplier,
 * CalculateActivationRangeQuantized, ComputePadding/ComputeOutSize). These run once per load;
 * doubles here match TFLM, which also computes multipliers in double at prepare time.
 */
#include <math.h>

#include "pe_internal.h"

hil_status pe_fail(pe_state *s, hil_status status, int op_index, int tensor_index, int32_t detail)
{
    hil_error_t *e = s->error;
    if (e != NULL && e->status == HIL_OK) {
        e->status = status;
        e->op_index = op_index;
        e->tensor_index = tensor_index;
        e->detail = detail;
    }
    return status;
}

int32_t *pe_persist_i32(pe_state *s, uint32_t count)
{
    const uint32_t bytes = count * (uint32_t)sizeof(int32_t);
    if (count > 0x10000000u || bytes > s->persist_left) {
        return NULL;
    }
    int32_t *p = (int32_t *)(void *)s->persist;
    s->persist += bytes;
    s->persist_left -= bytes;
    return p;
}

hil_status pe_expect_type(pe_state *s, int op_index, int tensor, uint8_t type)
{
    const pe_tensor *t = &s->tensors[tensor];
    if (t->type != type) {
        return pe_fail(s, HIL_ERR_UNSUPPORTED_TYPE, op_index, tensor, t->type);
    }
    return HIL_OK;
}

hil_status pe_expect_rank(pe_state *s, int op_index, int tensor, uint8_t rank)
{
    if (s->tensors[tensor].rank != rank) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, tensor, s->tensors[tensor].rank);
    }
    return HIL_OK;
}

hil_status pe_expect_quantized(pe_state *s, int op_index, int tensor)
{
    if (!s->tensors[tensor].quantized) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, tensor, 0);
    }
    return HIL_OK;
}

/* tflite::QuantizeMultiplier. Returns 0 where TFLite would fail a TFLITE_CHECK, or where the
 * resulting left shift could not be applied to an int32 without overflowing the shift. */
int pe_quantize_multiplier(double real_multiplier, int32_t *multiplier, int *shift)
{
    if (real_multiplier == 0.0) {
        *multiplier = 0;
        *shift = 0;
        return 1;
    }
    if (!isfinite(real_multiplier)) {
        return 0;
    }
    int exponent = 0;
    const double fraction = frexp(real_multiplier, &exponent);
    int64_t q_fixed = (int64_t)round(fraction * (double)(1LL << 31));
    if (q_fixed > (1LL << 31)) {
        return 0;
    }
    if (q_fixed == (1LL << 31)) {
        q_fixed /= 2;
        ++exponent;
    }
    if (q_fixed > INT32_MAX) {
        return 0;
    }
    if (exponent < -31) {
        exponent = 0;
        q_fixed = 0;
    }
    if (exponent > 31) { /* beyond what a 32-bit left shift can express */
        return 0;
    }
    *multiplier = (int32_t)q_fixed;
    *shift = exponent;
    return 1;
}

/* The Quantize() lambda of CalculateActivationRangeQuantizedImpl, in float like TFLite. */
static int pe_quantize_bound(float scale, int32_t zero_point, float value, int32_t *q)
{
    const float tmp = roundf(value / scale);
    if (!(tmp >= -2147483648.0f && tmp < 2147483648.0f)) {
        return 0;
    }
    *q = zero_point + (int32_t)tmp;
    return 1;
}

hil_status pe_expect_unary_io(pe_state *s, int op_index, uint8_t type, int quantized_input)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    if (op->n_inputs < 1 || op->inputs[0] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    if ((st = pe_expect_type(s, op_index, op->inputs[0], type)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, type)) != HIL_OK ||
        (quantized_input && (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK)) {
        return st;
    }
    return pe_expect_quantized(s, op_index, op->output);
}

hil_status pe_expect_softmax_io(pe_state *s, int op_index, uint8_t type)
{
    const pe_op *op = &s->ops[op_index];
    const hil_status st = pe_expect_unary_io(s, op_index, type, 1);
    if (st != HIL_OK) {
        return st;
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *out = &s->tensors[op->output];
    if (in->rank < 1 || in->rank != out->rank) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, out->rank);
    }
    for (uint8_t d = 0; d < in->rank; ++d) {
        if (in->dims[d] != out->dims[d]) {
            return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, d);
        }
    }
    return HIL_OK;
}

hil_status pe_activation_range_q(pe_state *s, int op_index, int32_t activation, const pe_tensor *out,
                                 int32_t qmin, int32_t qmax, int32_t *act_min, int32_t *act_max)
{
    int32_t lo = qmin;
    int32_t hi = qmax;
    int ok = 1;
    switch (activation) {
    case PE_ACT_NONE:
        break;
    case PE_ACT_RELU:
        ok = pe_quantize_bound(out->scale, out->zero_point, 0.0f, &lo);
        break;
    case PE_ACT_RELU6:
        ok = pe_quantize_bound(out->scale, out->zero_point, 0.0f, &lo) &&
             pe_quantize_bound(out->scale, out->zero_point, 6.0f, &hi);
        break;
    case PE_ACT_RELU_N1_TO_1:
        ok = pe_quantize_bound(out->scale, out->zero_point, -1.0f, &lo) &&
             pe_quantize_bound(out->scale, out->zero_point, 1.0f, &hi);
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

hil_status pe_activation_range(pe_state *s, int op_index, int32_t activation, const pe_tensor *out,
                               int32_t *act_min, int32_t *act_max)
{
    return pe_activation_range_q(s, op_index, activation, out, -128, 127, act_min, act_max);
}

hil_status pe_check_window(pe_state *s, int op_index, int32_t filter, int32_t stride, int32_t dilation)
{
    const int32_t limit = 1 << 20;
    if (filter < 1 || stride < 1 || dilation < 1 || stride > limit || dilation > limit ||
        (int64_t)(filter - 1) * dilation + 1 > limit) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, stride < 1 || stride > limit ? stride : dilation);
    }
    return HIL_OK;
}

int32_t pe_compute_padding(int32_t stride, int32_t dilation, int32_t in_size, int32_t filter_size,
                           int32_t out_size)
{
    const int64_t effective = (int64_t)(filter_size - 1) * dilation + 1;
    const int64_t total = (int64_t)(out_size - 1) * stride + effective - in_size;
    return total > 0 ? (int32_t)(total / 2) : 0;
}

int32_t pe_compute_out_size(int32_t padding, int32_t in_size, int32_t filter_size, int32_t stride,
                            int32_t dilation)
{
    const int64_t effective = (int64_t)(filter_size - 1) * dilation + 1;
    if (stride <= 0) {
        return 0;
    }
    if (padding == PE_PAD_SAME) {
        return (int32_t)(((int64_t)in_size + stride - 1) / stride);
    }
    if (padding == PE_PAD_VALID) {
        return (int32_t)(((int64_t)in_size + stride - effective) / stride);
    }
    return 0;
}

hil_status pe_request_scratch(pe_state *s, int op_index, uint32_t bytes)
{
    if (bytes > (1u << 28)) {
        return pe_fail(s, HIL_ERR_LIMIT, op_index, -1, (int32_t)bytes);
    }
    if (bytes > s->scratch_bytes) {
        s->scratch_bytes = bytes;
    }
    return HIL_OK;
}

uint32_t pe_type_size(uint8_t type)
{
    switch (type) {
    case PE_TYPE_INT8: return 1;
    case PE_TYPE_INT16: return 2;
    case PE_TYPE_INT64: return 8;
    case PE_TYPE_INT32: return 4;
    case PE_TYPE_FLOAT32: return 4;
    default: return 0;
    }
}
