/* ADD int8, with broadcasting. Mirrors TFLM's add_common.cc (CalculateOpDataAdd: left shift
 * 20 and per-input multipliers) and reference_integer_ops::Add / BroadcastAdd. */
#include "pe_internal.h"
#include "pe_fixedpoint.h"

static int pe_quantize_smaller_than_one(double real, int32_t *multiplier, int32_t *shift)
{
    int sh = 0;
    if (!(real > 0.0 && real < 1.0) || !pe_quantize_multiplier(real, multiplier, &sh) || sh > 0) {
        return 0;
    }
    *shift = sh;
    return 1;
}

hil_status pe_add_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_add_params *p = &op->p.add;
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in1 = &s->tensors[op->inputs[0]];
    const pe_tensor *in2 = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    for (int i = 0; i < 2; ++i) {
        if ((st = pe_expect_type(s, op_index, op->inputs[i], PE_TYPE_INT8)) != HIL_OK ||
            (st = pe_expect_quantized(s, op_index, op->inputs[i])) != HIL_OK) {
            return st;
        }
    }
    if ((st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_quantized(s, op_index, op->output)) != HIL_OK) {
        return st;
    }
    /* Shapes, right-aligned and extended to PE_MAX_DIMS. */
    int same = in1->rank == in2->rank;
    int32_t stride1 = 1, stride2 = 1;
    for (int d = PE_MAX_DIMS - 1; d >= 0; --d) {
        const int k1 = d - (PE_MAX_DIMS - in1->rank);
        const int k2 = d - (PE_MAX_DIMS - in2->rank);
        const int ko = d - (PE_MAX_DIMS - out->rank);
        const int32_t d1 = k1 >= 0 ? in1->dims[k1] : 1;
        const int32_t d2 = k2 >= 0 ? in2->dims[k2] : 1;
        const int32_t dout = ko >= 0 ? out->dims[ko] : 1;
        if (d1 != d2) {
            same = 0;
        }
        const int32_t expected = d1 == 1 ? d2 : d1;
        if ((d1 != d2 && d1 != 1 && d2 != 1) || dout != expected) {
            return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, d);
        }
        p->out_dims[d] = dout;
        p->stride1[d] = d1 == 1 ? 0 : stride1;
        p->stride2[d] = d2 == 1 ? 0 : stride2;
        stride1 *= d1;
        stride2 *= d2;
    }
    if (out->rank < in1->rank || out->rank < in2->rank) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, out->rank);
    }
    p->broadcast = !same;
    p->input1_offset = -in1->zero_point;
    p->input2_offset = -in2->zero_point;
    p->output_offset = out->zero_point;
    p->left_shift = 20;
    const float max_scale = in1->scale > in2->scale ? in1->scale : in2->scale;
    const double twice_max_input_scale = 2 * (double)max_scale;
    const double real1 = (double)in1->scale / twice_max_input_scale;
    const double real2 = (double)in2->scale / twice_max_input_scale;
    const double real_out = twice_max_input_scale / ((1 << p->left_shift) * (double)out->scale);
    if (!pe_quantize_smaller_than_one(real1, &p->input1_multiplier, &p->input1_shift) ||
        !pe_quantize_smaller_than_one(real2, &p->input2_multiplier, &p->input2_shift) ||
        !pe_quantize_smaller_than_one(real_out, &p->output_multiplier, &p->output_shift)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->output, 0);
    }
    return pe_activation_range(s, op_index, o->activation, out, &p->act_min, &p->act_max);
}

static int8_t pe_add_one(const pe_add_params *p, int32_t x, int32_t y)
{
    const int32_t shifted1 = (x + p->input1_offset) * (1 << p->left_shift);
    const int32_t shifted2 = (y + p->input2_offset) * (1 << p->left_shift);
    const int32_t scaled1 = pe_mbqm_smaller_than_one(shifted1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = pe_mbqm_smaller_than_one(shifted2, p->input2_multiplier, p->input2_shift);
    const int32_t raw_sum = pe_wrap_add(scaled1, scaled2);
    const int32_t raw_out = pe_wrap_add(pe_mbqm_smaller_than_one(raw_sum, p->output_multiplier, p->output_shift),
                                        p->output_offset);
    return (int8_t)pe_clamp(raw_out, p->act_min, p->act_max);
}

void pe_add_eval(const pe_state *s, const pe_op *op)
{
    const pe_add_params *p = &op->p.add;
    const int8_t *a = (const int8_t *)pe_in(s, op, 0)->data;
    const int8_t *b = (const int8_t *)pe_in(s, op, 1)->data;
    const pe_tensor *out = pe_out(s, op);
    int8_t *output_data = (int8_t *)out->data;
    if (!p->broadcast) {
        for (uint32_t i = 0; i < out->elements; ++i) {
            output_data[i] = pe_add_one(p, a[i], b[i]);
        }
        return;
    }
    int32_t idx[PE_MAX_DIMS] = {0};
    int32_t off1 = 0, off2 = 0;
    for (uint32_t i = 0; i < out->elements; ++i) {
        output_data[i] = pe_add_one(p, a[off1], b[off2]);
        for (int d = PE_MAX_DIMS - 1; d >= 0; --d) {
            off1 += p->stride1[d];
            off2 += p->stride2[d];
            if (++idx[d] < p->out_dims[d]) {
                break;
            }
            off1 -= p->stride1[d] * p->out_dims[d];
            off2 -= p->stride2[d] * p->out_dims[d];
            idx[d] = 0;
        }
    }
}
