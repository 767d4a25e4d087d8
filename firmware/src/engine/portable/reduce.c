/* MEAN, int8. Mirrors TFLM's reduce_common.cc (PrepareMeanOrSumHelper, EvalIntegerMean) and
 * reference_ops::QuantizedMeanOrSum: sum in int32, subtract zp * count, then one requantization
 * with the 1/count factor folded into the multiplier exactly as TFLite folds it. */
#include "pe_internal.h"
#include "pe_fixedpoint.h"

hil_status pe_mean_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_mean_params *p = &op->p.mean;
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *axis = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->inputs[1], PE_TYPE_INT32)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK) {
        return st;
    }
    if (!axis->is_const || axis->elements > PE_MAX_DIMS * 2u) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[1], (int32_t)axis->elements);
    }
    (void)o; /* keep_dims only changes the output shape, which the model already states */
    p->n_axes = 0;
    for (uint32_t i = 0; i < axis->elements; ++i) {
        int32_t a = hil_le_get_i32(axis->data + 4u * i);
        if (a < 0) {
            a += in->rank;
        }
        if (a < 0 || a >= in->rank) {
            return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[1], a);
        }
        int duplicate = 0;
        for (int32_t j = 0; j < p->n_axes; ++j) {
            duplicate |= p->axes[j] == a;
        }
        if (!duplicate) {
            p->axes[p->n_axes++] = a;
        }
    }
    uint32_t kept = 1;
    int64_t count = 1;
    for (int32_t d = 0; d < in->rank; ++d) {
        int reduced = 0;
        for (int32_t j = 0; j < p->n_axes; ++j) {
            reduced |= p->axes[j] == d;
        }
        if (reduced) {
            count *= in->dims[d];
        } else {
            kept *= (uint32_t)in->dims[d];
        }
    }
    if (kept != out->elements) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, (int32_t)out->elements);
    }
    int32_t multiplier = 0;
    int shift = 0;
    const double real = (double)in->scale / (double)out->scale;
    if (!pe_quantize_multiplier(real, &multiplier, &shift)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->output, 0);
    }
    /* Fold 1/count into the multiplier (QuantizedMeanOrSum, compute_sum == false). */
    int fold = 63 - (count >> 32 ? pe_clz32((uint32_t)(count >> 32)) : 32 + pe_clz32((uint32_t)count));
    fold = fold < 32 ? fold : 32;
    fold = fold < 31 + shift ? fold : 31 + shift;
    p->multiplier = (int32_t)(((int64_t)multiplier << fold) / count);
    p->shift = shift - fold;
    p->input_zp = in->zero_point;
    p->output_zp = out->zero_point;
    p->n_elements = (int32_t)count;
    return HIL_OK;
}

void pe_mean_eval(const pe_state *s, const pe_op *op)
{
    const pe_mean_params *p = &op->p.mean;
    const pe_tensor *in = pe_in(s, op, 0);
    const int8_t *input_data = (const int8_t *)in->data;
    int8_t *output_data = (int8_t *)pe_out(s, op)->data;
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
            sum = pe_wrap_add(sum, input_data[offset]);
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
        const int32_t shifted = (int32_t)(uint32_t)(uint64_t)((int64_t)sum - (int64_t)p->input_zp * p->n_elements);
        int32_t value = pe_mbqm(shifted, p->multiplier, p->shift);
        value = pe_wrap_add(value, p->output_zp);
        output_data[out_index++] = (int8_t)pe_clamp(value, -128, 127);
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
