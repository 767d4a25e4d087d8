/*
 * Dual 16-bit multiply-accumulate for the optimized kernels: the Cortex-M4's SMLAD where the
 * compiler says the DSP extension is there (__ARM_FEATURE_DSP), else the same arithmetic in C
 * (the host build, and the path the host tests check against the reference kernels).
 * acc + a[0] * b[0] + a[1] * b[1], wrapping at 32 bits exactly like SMLAD and like the
 * reference kernels' pe_wrap_add: integer sums do not depend on the order of accumulation, so
 * both paths give the reference kernels' bytes. `a` and `b` need only 2-byte alignment
 * (Cortex-M4 LDR takes unaligned addresses).
 */
#ifndef PE_DSP_H
#define PE_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && !defined(PE_NO_DSP)
#include <arm_acle.h>
#define PE_HAVE_DSP 1

static inline int32_t pe_dot2(const int16_t *a, const int16_t *b, int32_t acc)
{
    int32_t x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    return __smlad(x, y, acc);
}
#else
#define PE_HAVE_DSP 0

static inline int32_t pe_dot2(const int16_t *a, const int16_t *b, int32_t acc)
{
    const uint32_t p = (uint32_t)((int32_t)a[0] * (int32_t)b[0]) + (uint32_t)((int32_t)a[1] * (int32_t)b[1]);
    return (int32_t)((uint32_t)acc + p);
}
#endif

#endif /* PE_DSP_H */
