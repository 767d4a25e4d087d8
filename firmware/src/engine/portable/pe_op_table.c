/*
 * The op table, as TFLM's MicroMutableOpResolver: one row per builtin code and type of the
 * op's first input. The loader takes the first row that matches, so a kernel for a new tensor
 * type is one more row above the PE_TYPE_ANY row of its code (and its own kernel file); the
 * PE_TYPE_ANY rows' prepare functions check the types themselves and refuse the rest with
 * UNSUPPORTED_TYPE. A prepare may replace op->eval with a fast path it has checked applies.
 */
#include "pe_int16.h"
#include "pe_internal.h"

/* MAX_POOL_2D int8 has nothing for its fast path to check: the table names it, and the reference
 * loop (pooling.c) is linked only into PE_REFERENCE_KERNELS builds. */
#ifdef PE_REFERENCE_KERNELS
#define PE_MAX_POOL_EVAL pe_max_pool_eval
#else
#define PE_MAX_POOL_EVAL pe_max_pool_eval_fast
#endif

static const pe_op_registration pe_op_table[] = {
#if PE_WITH_INT16
    /* 16x8 kernels (int16 input 0); QUANTIZE from float or int8 picks its int16 kernel by output. */
    {PE_OP_AVERAGE_POOL_2D, PE_TYPE_INT16, PE_OPT_POOL_2D, pe_pooling16_prepare, pe_average_pool16_eval},
    {PE_OP_CONV_2D, PE_TYPE_INT16, PE_OPT_CONV_2D, pe_conv16_prepare, pe_conv16_eval},
    {PE_OP_DEPTHWISE_CONV_2D, PE_TYPE_INT16, PE_OPT_DEPTHWISE_CONV_2D, pe_depthwise_conv16_prepare,
     pe_depthwise_conv16_eval},
    {PE_OP_DEQUANTIZE, PE_TYPE_INT16, PE_OPT_NONE, pe_dequantize16_prepare, pe_dequantize16_eval},
    {PE_OP_FULLY_CONNECTED, PE_TYPE_INT16, PE_OPT_FULLY_CONNECTED, pe_fully_connected16_prepare,
     pe_fully_connected16_eval},
    {PE_OP_MAX_POOL_2D, PE_TYPE_INT16, PE_OPT_POOL_2D, pe_pooling16_prepare, pe_max_pool16_eval},
    {PE_OP_RESHAPE, PE_TYPE_INT16, PE_OPT_NONE, pe_reshape16_prepare, pe_reshape_eval},
    {PE_OP_SOFTMAX, PE_TYPE_INT16, PE_OPT_SOFTMAX, pe_softmax16_prepare, pe_softmax16_eval},
    {PE_OP_MEAN, PE_TYPE_INT16, PE_OPT_REDUCER, pe_mean16_prepare, pe_mean16_eval},
    {PE_OP_SQUEEZE, PE_TYPE_INT16, PE_OPT_NONE, pe_reshape16_prepare, pe_reshape_eval},
    {PE_OP_EXPAND_DIMS, PE_TYPE_INT16, PE_OPT_NONE, pe_reshape16_prepare, pe_reshape_eval},
    {PE_OP_QUANTIZE, PE_TYPE_INT16, PE_OPT_NONE, pe_quantize16_prepare, pe_quantize16_eval},
    {PE_OP_QUANTIZE, PE_TYPE_FLOAT32, PE_OPT_NONE, pe_quantize_to_int16_or_int8_prepare, pe_quantize_eval},
    {PE_OP_QUANTIZE, PE_TYPE_INT8, PE_OPT_NONE, pe_quantize_to_int16_or_int8_prepare, pe_quantize_eval},
#endif
    {PE_OP_ADD, PE_TYPE_ANY, PE_OPT_ADD, pe_add_prepare, pe_add_eval},
    {PE_OP_AVERAGE_POOL_2D, PE_TYPE_ANY, PE_OPT_POOL_2D, pe_pooling_prepare, pe_average_pool_eval},
    {PE_OP_CONV_2D, PE_TYPE_ANY, PE_OPT_CONV_2D, pe_conv_prepare, pe_conv_eval},
    {PE_OP_DEPTHWISE_CONV_2D, PE_TYPE_ANY, PE_OPT_DEPTHWISE_CONV_2D, pe_depthwise_conv_prepare,
     pe_depthwise_conv_eval},
    {PE_OP_DEQUANTIZE, PE_TYPE_ANY, PE_OPT_NONE, pe_dequantize_prepare, pe_dequantize_eval},
    {PE_OP_FULLY_CONNECTED, PE_TYPE_ANY, PE_OPT_FULLY_CONNECTED, pe_fully_connected_prepare,
     pe_fully_connected_eval},
    {PE_OP_MAX_POOL_2D, PE_TYPE_ANY, PE_OPT_POOL_2D, pe_pooling_prepare, PE_MAX_POOL_EVAL},
    {PE_OP_RESHAPE, PE_TYPE_ANY, PE_OPT_NONE, pe_reshape_prepare, pe_reshape_eval},
    {PE_OP_SOFTMAX, PE_TYPE_ANY, PE_OPT_SOFTMAX, pe_softmax_prepare, pe_softmax_eval},
    {PE_OP_MEAN, PE_TYPE_ANY, PE_OPT_REDUCER, pe_mean_prepare, pe_mean_eval},
    {PE_OP_SQUEEZE, PE_TYPE_ANY, PE_OPT_NONE, pe_reshape_prepare, pe_reshape_eval},
    {PE_OP_EXPAND_DIMS, PE_TYPE_ANY, PE_OPT_NONE, pe_reshape_prepare, pe_reshape_eval},
    {PE_OP_QUANTIZE, PE_TYPE_ANY, PE_OPT_NONE, pe_quantize_prepare, pe_quantize_eval},
};

const pe_op_registration *pe_op_find(int32_t code, uint8_t input_type)
{
    for (uint32_t i = 0; i < sizeof pe_op_table / sizeof pe_op_table[0]; ++i) {
        const pe_op_registration *r = &pe_op_table[i];
        if (r->code == code &&
            (input_type == PE_TYPE_ANY || r->input_type == PE_TYPE_ANY || r->input_type == input_type)) {
            return r;
        }
    }
    return NULL;
}
