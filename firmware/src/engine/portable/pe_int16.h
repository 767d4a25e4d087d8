/*
 * Entry points of the 16x8 kernels (the op table's PE_TYPE_INT16 rows, pe_op_table.c) and the
 * int16 arithmetic of TFLite's reference kernels they share.
 */
#ifndef PE_INT16_H
#define PE_INT16_H

#include "pe_fixedpoint.h"
#include "pe_internal.h"

/* Kernels (PE_KERNEL: pe_internal.h). conv_16x8.c: CONV_2D and DEPTHWISE_CONV_2D;
 * fully_connected_16x8.c, pooling_16x8.c, reduce_16x8.c, softmax_int16.c, quantize_int16.c
 * (QUANTIZE, DEQUANTIZE); pe_int16_common.c: the reshapes. */
PE_KERNEL(pe_conv16);
PE_KERNEL(pe_depthwise_conv16);
PE_KERNEL(pe_fully_connected16);
PE_KERNEL(pe_mean16);
PE_KERNEL(pe_softmax16);
PE_KERNEL(pe_quantize16);
PE_KERNEL(pe_dequantize16);
hil_status pe_pooling16_prepare(pe_state *s, int op_index, const pe_options *o);
void pe_average_pool16_eval(const pe_state *s, const pe_op *op);
void pe_max_pool16_eval(const pe_state *s, const pe_op *op);
/* QUANTIZE from FLOAT32 or INT8: the int16 kernel for an INT16 output, else the int8 one. */
hil_status pe_quantize_to_int16_or_int8_prepare(pe_state *s, int op_index, const pe_options *o);
hil_status pe_reshape16_prepare(pe_state *s, int op_index, const pe_options *o); /* eval: pe_reshape_eval */

/* Shared prepare steps (pe_int16_common.c). */
/* CalculateActivationRangeQuantized for an INT16 output. */
hil_status pe_activation_range16(pe_state *s, int op_index, int32_t activation, const pe_tensor *out,
                                 int32_t *act_min, int32_t *act_max);
/* Bias of a 16x8 CONV_2D / FULLY_CONNECTED: absent, INT64 (wide) or INT32, `elements` long.
 * Sets *wide as TFLM chooses the accumulator: int64 unless the bias is INT32, or absent with
 * the options' quantized_bias_type INT32. */
hil_status pe_bias16(pe_state *s, int op_index, int32_t elements, int allow_int32,
                     int32_t quantized_bias_type, int32_t *wide);
/* A requantization shift the 64-bit MultiplyByQuantizedMultiplier can apply (15 - shift in
 * [1, 63]); outside that TFLM's shifts are undefined. */
hil_status pe_check_shift64(pe_state *s, int op_index, int tensor, const int32_t *shift, int32_t count);

static inline int64_t pe_wrap_add64(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* tflite::MultiplyByQuantizedMultiplier(int64_t x, ...), the double-rounding build's 64-bit
 * variant: the multiplier rounded to 16 bits, one rounding right shift of 15 - shift. */
static inline int32_t pe_mbqm64(int64_t x, int32_t multiplier, int shift)
{
    const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - shift;
    const uint64_t product = (uint64_t)x * (uint64_t)(int64_t)reduced;
    const int64_t rounded = (int64_t)(product + ((uint64_t)1 << (total_shift - 1)));
    return (int32_t)(uint32_t)(uint64_t)(rounded >> total_shift);
}

#endif /* PE_INT16_H */
