/* MEAN, int8. Mirrors TFLM's reduce_common.cc (PrepareMeanOrSumHelper, EvalIntegerMean); the
 * walk and the arithmetic are pe_reduce.h's, shared with the int16 kernel. */
#include "pe_reduce.h"

hil_status pe_mean_prepare_type(pe_state *s, int op_index, uint8_t type)
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
    if ((st = pe_expect_type(s, op_index, op->inputs[0], type)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->inputs[1], PE_TYPE_INT32)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, type)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK) {
        return st;
    }
    if (!axis->is_const || axis->elements > PE_MAX_DIMS * 2u) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->inputs[1], (int32_t)axis->elements);
    }
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

hil_status pe_mean_prepare(pe_state *s, int op_index, const pe_options *o)
{
    (void)o; /* keep_dims only changes the output shape, which the model already states */
    return pe_mean_prepare_type(s, op_index, PE_TYPE_INT8);
}

void pe_mean_eval(const pe_state *s, const pe_op *op)
{
    pe_mean_run(s, op, 0);
}
