/* QUANTIZE float32 -> int8 (reference_ops::AffineQuantize) and int8 -> int8
 * (reference_ops::Requantize), prepared as TFLM's quantize_common.cc does. */
#include <math.h>

#include "pe_internal.h"
#include "pe_fixedpoint.h"

hil_status pe_quantize_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_quant_params *p = &op->p.quant;
    hil_status st;
    (void)o;
    if (op->n_inputs < 1 || op->inputs[0] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *out = &s->tensors[op->output];
    if ((st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK) {
        return st;
    }
    if (in->elements != out->elements) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, 0);
    }
    p->scale = out->scale;
    p->zero_point = out->zero_point;
    if (in->type == PE_TYPE_FLOAT32) {
        p->from_float = 1;
        return HIL_OK;
    }
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK) {
        return st;
    }
    p->from_float = 0;
    p->input_zp = in->zero_point;
    p->output_zp = out->zero_point;
    int shift = 0;
    const double effective = (double)in->scale / (double)out->scale;
    if (!pe_quantize_multiplier(effective, &p->multiplier, &shift)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->output, 0);
    }
    p->shift = shift;
    return HIL_OK;
}

void pe_quantize_eval(const pe_state *s, const pe_op *op)
{
    const pe_quant_params *p = &op->p.quant;
    const pe_tensor *in = pe_in(s, op, 0);
    int8_t *output_data = (int8_t *)pe_out(s, op)->data;
    if (p->from_float) {
        const float *input_data = (const float *)(const void *)in->data;
        for (uint32_t i = 0; i < in->elements; ++i) {
            const int32_t q = pe_wrap_add(pe_f32_to_i32_sat(roundf(input_data[i] / p->scale)), p->zero_point);
            output_data[i] = (int8_t)pe_clamp(q, -128, 127);
        }
        return;
    }
    const int8_t *input_data = (const int8_t *)in->data;
    for (uint32_t i = 0; i < in->elements; ++i) {
        const int32_t centered = (int32_t)input_data[i] - p->input_zp;
        const int32_t q = pe_wrap_add(pe_mbqm(centered, p->multiplier, p->shift), p->output_zp);
        output_data[i] = (int8_t)pe_clamp(q, -128, 127);
    }
}
