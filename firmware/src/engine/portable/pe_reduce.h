/* MEAN of int8 and int16 tensors (reduce.c, reduce_16x8.c): one prepare and one walk over the
 * element type. TFLM runs both as reference_ops::QuantizedMeanOrSum with an int32 sum: subtract
 * zp * count, then one requantization with 1/count folded into the multiplier exactly as TFLite
 * folds it (int16 zero points are 0, so that type skips the correction). */
#ifndef PE_REDUCE_H
#define PE_REDUCE_H

#include "pe_fixedpoint.h"
#include "pe_internal.h"

/* Checks input `type` (INT8 or INT16) against the output and the axes; fills op->p.mean. */
hil_status pe_mean_prepare_type(pe_state *s, int op_index, uint8_t type);

/* `int16`: a constant 0 or 1 at each (always inlined) call, so each type gets its own loop. */
static inline __attribute__((always_inline)) void pe_mean_run(const pe_state *s, const pe_op *op, int int16)
{
    const pe_mean_params *p = &op->p.mean;
    const pe_tensor *in = pe_in(s, op, 0);
    const int8_t *input8 = (const int8_t *)in->data;
    const int16_t *input16 = (const int16_t *)(const void *)in->data;
    int8_t *output8 = (int8_t *)pe_out(s, op)->data;
    int16_t *output16 = (int16_t *)(void *)pe_out(s, op)->data;
    int32_t kept_dims[PE_MAX_DIMS], kept_strides[PE_MAX_DIMS];
    int32_t red_dims[PE_MAX_DIMS], red_strides[PE_MAX_DIMS];
    int32_t n_kept = 0, n_red = 0;
    int32_t stride = 1;
    for (int32_t d = in->rank - 1; d >= 0; --d) {
        int reduced = 0;
        for (int32_t j = 0; j < p->n_axes; ++j) {
            reduced |= p->axes[j] == d;
        }
        if (reduced) {
            red_dims[n_red] = in->dims[d];
            red_strides[n_red++] = stride;
        } else {
            kept_dims[n_kept] = in->dims[d];
            kept_strides[n_kept++] = stride;
        }
        stride *= in->dims[d];
    }
    /* Odometers over the kept (outputs, row-major) and reduced dimensions; index 0 is the
     * innermost dimension. */
    int32_t kept_idx[PE_MAX_DIMS] = {0};
    int32_t base = 0;
    int32_t out_index = 0;
    for (;;) {
        int32_t red_idx[PE_MAX_DIMS] = {0};
        int32_t offset = base;
        int32_t sum = 0;
        for (;;) {
            sum = pe_wrap_add(sum, int16 ? input16[offset] : input8[offset]);
            int32_t d = 0;
            for (; d < n_red; ++d) {
                offset += red_strides[d];
                if (++red_idx[d] < red_dims[d]) {
                    break;
                }
                offset -= red_strides[d] * red_dims[d];
                red_idx[d] = 0;
            }
            if (d == n_red) {
                break;
            }
        }
        if (int16) {
            output16[out_index++] = (int16_t)pe_clamp(pe_mbqm(sum, p->multiplier, p->shift), -32768, 32767);
        } else {
            const int32_t shifted =
                (int32_t)(uint32_t)(uint64_t)((int64_t)sum - (int64_t)p->input_zp * p->n_elements);
            const int32_t value = pe_wrap_add(pe_mbqm(shifted, p->multiplier, p->shift), p->output_zp);
            output8[out_index++] = (int8_t)pe_clamp(value, -128, 127);
        }
        int32_t d = 0;
        for (; d < n_kept; ++d) {
            base += kept_strides[d];
            if (++kept_idx[d] < kept_dims[d]) {
                break;
            }
            base -= kept_strides[d] * kept_dims[d];
            kept_idx[d] = 0;
        }
        if (d == n_kept) {
            break;
        }
    }
}

#endif /* PE_REDUCE_H */
