/* DEQUANTIZE int8 -> float32 (reference_ops::Dequantize). */
#include "pe_internal.h"

hil_status pe_dequantize_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    hil_status st;
    (void)o;
    if (op->n_inputs < 1 || op->inputs[0] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_FLOAT32)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK) {
        return st;
    }
    if (in->elements != s->tensors[op->output].elements) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, 0);
    }
    op->p.quant.scale = in->scale;
    op->p.quant.zero_point = in->zero_point;
    return HIL_OK;
}

void pe_dequantize_eval(const pe_state *s, const pe_op *op)
{
    const pe_tensor *in = pe_in(s, op, 0);
    const int8_t *input_data = (const int8_t *)in->data;
    float *output_data = (float *)(void *)pe_out(s, op)->data;
    const float scale = op->p.quant.scale;
    for (uint32_t i = 0; i < in->elements; ++i) {
        /* TFLite computes (float)((double)scale * (q - zp)). q - zp has at most 9 significant
         * bits and scale 24, so the double product is exact and the single rounding to float
         * equals the float product: same bits, no software double on the M4. */
        output_data[i] = scale * (float)((int32_t)input_data[i] - op->p.quant.zero_point);
    }
}
