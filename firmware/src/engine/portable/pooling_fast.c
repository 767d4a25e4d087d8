/*
 * MAX_POOL_2D int8, optimized: the same bytes as pe_max_pool_eval in pooling.c (the reference,
 * which PE_REFERENCE_KERNELS builds alone). Each output pixel starts at -128 and takes the
 * running maximum of its window's input pixels, four channels per step on the M4 (UQSUB8 on
 * bytes biased by 0x80; not SSUB8 + SEL, whose GE flags Renode 1.15's Cortex-M4 sets from the
 * wrapped byte difference), a byte loop in C elsewhere. The clamp to
 * the fused activation's range follows, skipped when it is the full int8 range.
 */
#include "pe_internal.h"
#include "pe_fixedpoint.h"

#ifndef PE_REFERENCE_KERNELS

#include <string.h>

#if defined(__ARM_FEATURE_DSP) && !defined(PE_NO_DSP)
#include <arm_acle.h>
#endif

static void pe_max_into(int8_t *dst, const int8_t *src, int32_t depth)
{
    int32_t c = 0;
#if defined(__ARM_FEATURE_DSP) && !defined(PE_NO_DSP)
    /* Bytes biased by 0x80 order as unsigned like the signed originals; then per lane
     * max(a, b) = b + (a -sat b), with UQSUB8 saturating at 0 and no carry between lanes. */
    for (; c + 4 <= depth; c += 4) {
        uint32_t a, b;
        memcpy(&a, dst + c, 4);
        memcpy(&b, src + c, 4);
        a ^= 0x80808080u;
        b ^= 0x80808080u;
        const uint32_t m = (b + (uint32_t)__uqsub8(a, b)) ^ 0x80808080u;
        memcpy(dst + c, &m, 4);
    }
#endif
    for (; c < depth; ++c) {
        dst[c] = src[c] > dst[c] ? src[c] : dst[c];
    }
}

void pe_max_pool_eval_fast(const pe_state *s, const pe_op *op)
{
    const pe_pool_params *p = &op->p.pool;
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *out = pe_out(s, op);
    const int8_t *input = (const int8_t *)in->data;
    int8_t *output = (int8_t *)out->data;
    const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], depth = in->dims[3];
    const int32_t out_h = out->dims[1], out_w = out->dims[2];
    const int clamp = p->act_min > -128 || p->act_max < 127;

    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = in_y0 < 0 ? -in_y0 : 0;
            const int32_t fy1 = in_h - in_y0 < p->filter_h ? in_h - in_y0 : p->filter_h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = in_x0 < 0 ? -in_x0 : 0;
                const int32_t fx1 = in_w - in_x0 < p->filter_w ? in_w - in_x0 : p->filter_w;
                int8_t *dst = output + ((b * out_h + oy) * out_w + ox) * depth;
                memset(dst, -128, (size_t)depth);
                for (int32_t fy = fy0; fy < fy1; ++fy) {
                    for (int32_t fx = fx0; fx < fx1; ++fx) {
                        pe_max_into(dst, input + ((b * in_h + in_y0 + fy) * in_w + in_x0 + fx) * depth, depth);
                    }
                }
                if (clamp) {
                    for (int32_t c = 0; c < depth; ++c) {
                        dst[c] = (int8_t)pe_clamp(dst[c], p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

#endif /* PE_REFERENCE_KERNELS */
