/*
 * FULLY_CONNECTED int8, optimized: the same bytes as pe_fully_connected_eval (the reference in
 * fully_connected.c, which PE_REFERENCE_KERNELS builds alone). Weights with zero point 0 (what
 * the converter writes for int8) are read in place, four at a time: on the M4 one word, split
 * by SXTB16 into its even and odd bytes, feeds two SMLADs against the input row, which is
 * widened once per batch to int16 with the input offset added and stored in that even/odd
 * order (pe_reorder4) in the arena scratch.
 */
#include "pe_conv_util.h"
#include "pe_dsp.h"
#include "pe_fixedpoint.h"

#ifndef PE_REFERENCE_KERNELS

uint32_t pe_fully_connected_fast_scratch_bytes(const pe_fc_params *p)
{
    return 2u * ((uint32_t)p->accum_depth + 3u);
}

void pe_fully_connected_eval_fast(const pe_state *s, const pe_op *op)
{
    const pe_fc_params *p = &op->p.fc;
    const int8_t *input = (const int8_t *)pe_in(s, op, 0)->data;
    const int8_t *filter = (const int8_t *)pe_in(s, op, 1)->data;
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    int8_t *output = (int8_t *)pe_out(s, op)->data;
    const int32_t depth = p->accum_depth;
    const int32_t blocks = depth >> 2;
    int16_t *x = (int16_t *)(void *)s->scratch;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * depth;
        for (int32_t d = 0; d < depth; ++d) {
            x[pe_reorder4(d, blocks)] = (int16_t)(row[d] + p->input_offset);
        }
        for (int32_t u = 0; u < p->units; ++u) {
            const int8_t *w = filter + u * depth;
            int32_t acc = bias != NULL ? hil_le_get_i32(bias->data + 4u * (uint32_t)u) : 0;
            for (int32_t j = 0; j < blocks; ++j) {
                acc = pe_dot4_s8(w + 4 * j, x + 4 * j, acc);
            }
            for (int32_t d = 4 * blocks; d < depth; ++d) {
                acc = pe_wrap_add(acc, (int32_t)w[d] * x[d]);
            }
            const int ch = p->per_channel ? u : 0;
            acc = pe_wrap_add(pe_mbqm(acc, p->multiplier[ch], p->shift[ch]), p->output_offset);
            output[b * p->units + u] = (int8_t)pe_clamp(acc, p->act_min, p->act_max);
        }
    }
}

#endif /* PE_REFERENCE_KERNELS */
