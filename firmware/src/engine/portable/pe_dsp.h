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

/* acc + w[0] * x[0] + w[2] * x[1] + w[1] * x[2] + w[3] * x[3]: four int8 weights in their own
 * order against an int16 vector stored in pe_reorder4 order (SXTB16 splits the weight word
 * into its even and odd bytes). */
static inline int32_t pe_dot4_s8(const int8_t *w, const int16_t *x, int32_t acc)
{
    uint32_t word;
    int32_t x0, x1;
    memcpy(&word, w, 4);
    memcpy(&x0, x, 4);
    memcpy(&x1, x + 2, 4);
    acc = __smlad(__sxtb16((int32_t)word), x0, acc);
    return __smlad(__sxtb16((int32_t)((word >> 8) | (word << 24))), x1, acc);
}
#else
#define PE_HAVE_DSP 0

static inline int32_t pe_dot2(const int16_t *a, const int16_t *b, int32_t acc)
{
    const uint32_t p = (uint32_t)((int32_t)a[0] * (int32_t)b[0]) + (uint32_t)((int32_t)a[1] * (int32_t)b[1]);
    return (int32_t)((uint32_t)acc + p);
}

static inline int32_t pe_dot4_s8(const int8_t *w, const int16_t *x, int32_t acc)
{
    const uint32_t p = (uint32_t)((int32_t)w[0] * x[0]) + (uint32_t)((int32_t)w[2] * x[1]) +
                       (uint32_t)((int32_t)w[1] * x[2]) + (uint32_t)((int32_t)w[3] * x[3]);
    return (int32_t)((uint32_t)acc + p);
}
#endif

/* Index in pe_reorder4 order of element i of a vector whose first `blocks4` x 4 elements are
 * reordered (x0 x2 x1 x3 per block of four); the rest stay in place. */
static inline int32_t pe_reorder4(int32_t i, int32_t blocks4)
{
    if (i >= 4 * blocks4) {
        return i;
    }
    const int32_t r = i & 3;
    return (i & ~3) | (r == 1 ? 2 : (r == 2 ? 1 : r));
}

#endif /* PE_DSP_H */
