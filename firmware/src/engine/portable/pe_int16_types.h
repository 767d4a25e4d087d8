/*
 * Per-op parameters of the portable engine's 16x8 kernels (int16 activations, int8 weights,
 * int64 or int32 bias) that the int8 ones do not share; pe_internal.h puts them in pe_op's union.
 * CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, the pools and MEAN use the int8 kernels' parameter
 * structs (pe_conv_params, pe_fc_params, ...). Entry points: pe_int16.h.
 *
 * TFLM computes these with different primitives than the int8 kernels: the int64 accumulator is
 * requantized with the 64-bit MultiplyByQuantizedMultiplier (a 16-bit rounded multiplier, one
 * rounding shift), and int16 SOFTMAX uses two 513-entry interpolated LUTs built at prepare time.
 * int16 tensors carry zero point 0 (the TFLite quantization spec; checked when tensors are read).
 */
#ifndef PE_INT16_TYPES_H
#define PE_INT16_TYPES_H

#include <stdint.h>

/* TFLite TensorType codes beyond the int8 set. */
enum { PE_TYPE_INT64_CODE = 4, PE_TYPE_INT16_CODE = 7 };

/* Entries of one int16 LUT (LUTSize<int16_t>()): 512 segments + the last value. */
#define PE_LUT16_SIZE 513
/* Persistent bytes one int16 SOFTMAX needs: the exp and 1/(1+x) LUTs. */
#define PE_SOFTMAX16_PERSIST_BYTES (2u * PE_LUT16_SIZE * (uint32_t)sizeof(int16_t))

typedef struct {
    int32_t input_multiplier, input_left_shift;
    int32_t outer, depth;
    const int16_t *exp_lut;             /* exp(x) on [-10, 0] */
    const int16_t *one_over_one_plus_x_lut; /* 1/(1+x) on [0, 1] */
} pe_softmax16_params;

typedef struct {
    float scale;               /* float -> int16: output scale; int16 -> float: input scale */
    int32_t input_zp, output_zp, multiplier, shift;
    int32_t qmin, qmax;        /* of the output type */
    uint8_t from_float, input_type, output_type;
} pe_quant16_params;

typedef union {
    pe_softmax16_params softmax;
    pe_quant16_params quant;
} pe_int16_params;

#endif /* PE_INT16_TYPES_H */
