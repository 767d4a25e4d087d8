/*
 * Integer fixed-point helpers with TFLite's exact semantics (gemmlowp fixedpoint.h and
 * tensorflow/lite/kernels/internal/common.h, default double-rounding build). Everything is
 * written so that wrap-around happens in unsigned arithmetic: results are identical to what
 * TFLM computes on two's-complement machines, without signed-overflow undefined behaviour.
 */
#ifndef PE_FIXEDPOINT_H
#define PE_FIXEDPOINT_H

#include <stdint.h>

static inline int32_t pe_wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t pe_wrap_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

static inline int32_t pe_wrap_shl(int32_t x, int shift)
{
    return (int32_t)((uint32_t)x << shift);
}

/* gemmlowp::SaturatingRoundingDoublingHighMul */
static inline int32_t pe_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp::RoundingDivideByPOT, exponent in [0, 31] */
static inline int32_t pe_rdbypot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* tflite::MultiplyByQuantizedMultiplier (int32 x, double rounding) */
static inline int32_t pe_mbqm(int32_t x, int32_t multiplier, int shift)
{
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    return pe_rdbypot(pe_srdhm(pe_wrap_shl(x, left_shift), multiplier), right_shift);
}

/* tflite::MultiplyByQuantizedMultiplierSmallerThanOneExp */
static inline int32_t pe_mbqm_smaller_than_one(int32_t x, int32_t multiplier, int left_shift)
{
    return pe_rdbypot(pe_srdhm(x, multiplier), -left_shift);
}

/* tflite::MultiplyByQuantizedMultiplierGreaterThanOne */
static inline int32_t pe_mbqm_greater_than_one(int32_t x, int32_t multiplier, int left_shift)
{
    return pe_srdhm(pe_wrap_shl(x, left_shift), multiplier);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for int32 */
static inline int32_t pe_srmbypot(int32_t x, int exponent)
{
    if (exponent == 0) {
        return x;
    }
    if (exponent < 0) {
        return pe_rdbypot(x, -exponent);
    }
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return pe_wrap_shl(x, exponent);
}

/* float -> int32 as the Cortex-M FPU's VCVT does it: saturating, NaN -> 0. (The C cast is
 * undefined out of range; TFLM on the device gets the VCVT behaviour.) QUANTIZE from float. */
static inline int32_t pe_f32_to_i32_sat(float x)
{
    if (x != x) {
        return 0;
    }
    if (x >= 2147483648.0f) {
        return INT32_MAX;
    }
    if (x < -2147483648.0f) {
        return INT32_MIN;
    }
    return (int32_t)x;
}

static inline int pe_clz32(uint32_t x)
{
    if (x == 0) {
        return 32;
    }
#if defined(__GNUC__)
    return __builtin_clz(x);
#else
    int n = 0;
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

static inline int32_t pe_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* PE_FIXEDPOINT_H */
