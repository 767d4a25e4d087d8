/* QUANTIZE with an int16 side (float32 -> int16: reference_ops::AffineQuantize; int8 -> int16,
 * int16 -> int8, int16 -> int16: reference_ops::Requantize) and DEQUANTIZE int16 -> float32,
 * prepared as TFLM's quantize_common.cc / dequantize_common.cc do. */
#include <math.h>

#include "pe_int16.h"

hil_status pe_quantize16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_quant16_params *p = &op->p.i16.quant;
    hil_status st;
    (void)o;
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *out = &s->tensors[op->output];
    if (out->type != PE_TYPE_INT16 && out->type != PE_TYPE_INT8) {
        return pe_fail(s, HIL_ERR_UNSUPPORTED_TYPE, op_index, op->output, out->type);
    }
    if ((st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK) {
        return st;
    }
    if (out->n_scales != 1) { /* TFLM: per-layer output quantization only */
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->output, (int32_t)out->n_scales);
    }
    if (in->elements != out->elements) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, 0);
    }
    p->output_type = out->type;
    p->input_type = in->type;
    p->qmin = out->type == PE_TYPE_INT8 ? -128 : -32768;
    p->qmax = out->type == PE_TYPE_INT8 ? 127 : 32767;
    p->scale = out->scale;
    p->output_zp = out->zero_point;
    if (in->type == PE_TYPE_FLOAT32) { /* here only with an int16 output */
        p->from_float = 1;
        return HIL_OK;
    }
    if (in->type != PE_TYPE_INT16 && in->type != PE_TYPE_INT8) {
        return pe_fail(s, HIL_ERR_UNSUPPORTED_TYPE, op_index, op->inputs[0], in->type);
    }
    if ((st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK) {
        return st;
    }
    p->from_float = 0;
    p->input_zp = in->zero_point;
    int shift = 0;
    if (!pe_quantize_multiplier((double)in->scale / (double)out->scale, &p->multiplier, &shift)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->output, 0);
    }
    p->shift = shift;
    return HIL_OK;
}

hil_status pe_quantize_to_int16_or_int8_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    if (s->tensors[op->output].type == PE_TYPE_INT16) {
        op->eval = pe_quantize16_eval;
        return pe_quantize16_prepare(s, op_index, o);
    }
    return pe_quantize_prepare(s, op_index, o);
}

void pe_quantize16_eval(const pe_state *s, const pe_op *op)
{
    const pe_quant16_params *p = &op->p.i16.quant;
    const pe_tensor *in = pe_in(s, op, 0);
    uint8_t *output_data = pe_out(s, op)->data;
    for (uint32_t i = 0; i < in->elements; ++i) {
        int32_t q;
        if (p->from_float) {
            const float value = ((const float *)(const void *)in->data)[i];
            q = pe_wrap_add(pe_f32_to_i32_sat(roundf(value / p->scale)), p->output_zp);
        } else {
            const int32_t code = p->input_type == PE_TYPE_INT8 ? (int32_t)((const int8_t *)in->data)[i]
                                                               : (int32_t)((const int16_t *)(const void *)in->data)[i];
            q = pe_wrap_add(pe_mbqm(code - p->input_zp, p->multiplier, p->shift), p->output_zp);
        }
        q = pe_clamp(q, p->qmin, p->qmax);
        if (p->output_type == PE_TYPE_INT8) {
            ((int8_t *)output_data)[i] = (int8_t)q;
        } else {
            ((int16_t *)(void *)output_data)[i] = (int16_t)q;
        }
    }
}

hil_status pe_dequantize16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    hil_status st;
    (void)o;
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT16)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_FLOAT32)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->inputs[0])) != HIL_OK) {
        return st;
    }
    if (in->elements != s->tensors[op->output].elements) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, 0);
    }
    op->p.i16.quant.scale = in->scale;
    op->p.i16.quant.input_zp = in->zero_point;
    return HIL_OK;
}

void pe_dequantize16_eval(const pe_state *s, const pe_op *op)
{
    const pe_tensor *in = pe_in(s, op, 0);
    const int16_t *input_data = (const int16_t *)(const void *)in->data;
    float *output_data = (float *)(void *)pe_out(s, op)->data;
    const float scale = op->p.i16.quant.scale;
    for (uint32_t i = 0; i < in->elements; ++i) {
        /* TFLite: (float)((double)scale * (q - zp)). q - zp has at most 17 significant bits and
         * scale 24, so the double product is exact and rounding it to float equals the float
         * product: same bits without software double on the M4. */
        output_data[i] = scale * (float)((int32_t)input_data[i] - op->p.i16.quant.input_zp);
    }
}
