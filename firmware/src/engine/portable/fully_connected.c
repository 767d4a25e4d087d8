/* FULLY_CONNECTED, int8, per-tensor or per-channel weights. Mirrors TFLM's
 * fully_connected_common.cc prepare and reference_integer_ops::FullyConnected(PerChannel). */
#include "pe_conv_util.h"
#include "pe_fixedpoint.h"

hil_status pe_fully_connected_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_fc_params *p = &op->p.fc;
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    if ((st = pe_expect_rank(s, op_index, op->inputs[1], 2)) != HIL_OK ||
        (st = pe_conv_check_tensors(s, op_index, filter->dims[0])) != HIL_OK ||
        (st = pe_fc_shape(s, op_index, o, p)) != HIL_OK) {
        return st;
    }
    p->input_offset = -in->zero_point;
    p->filter_offset = -filter->zero_point;
    p->output_offset = out->zero_point;
    if ((st = pe_fc_quant_params(s, op_index, p)) != HIL_OK) {
        return st;
    }
    if ((st = pe_activation_range(s, op_index, o->activation, out, &p->act_min, &p->act_max)) != HIL_OK) {
        return st;
    }
#ifndef PE_REFERENCE_KERNELS
    if (p->filter_offset == 0) { /* fully_connected_fast.c */
        if ((st = pe_request_scratch(s, op_index, pe_fully_connected_fast_scratch_bytes(p))) != HIL_OK) {
            return st;
        }
        op->eval = pe_fully_connected_eval_fast;
    }
#endif
    return HIL_OK;
}

void pe_fully_connected_eval(const pe_state *s, const pe_op *op)
{
    const pe_fc_params *p = &op->p.fc;
    const int8_t *input_data = (const int8_t *)pe_in(s, op, 0)->data;
    const int8_t *filter_data = (const int8_t *)pe_in(s, op, 1)->data;
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    int8_t *output_data = (int8_t *)pe_out(s, op)->data;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_row = input_data + b * p->accum_depth;
        for (int32_t u = 0; u < p->units; ++u) {
            const int8_t *f_row = filter_data + u * p->accum_depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < p->accum_depth; ++d) {
                acc = pe_wrap_add(acc, ((int32_t)f_row[d] + p->filter_offset) *
                                           ((int32_t)in_row[d] + p->input_offset));
            }
            if (bias != NULL) {
                acc = pe_wrap_add(acc, hil_le_get_i32(bias->data + 4u * (uint32_t)u));
            }
            const int ch = p->per_channel ? u : 0;
            acc = pe_mbqm(acc, p->multiplier[ch], p->shift[ch]);
            acc = pe_wrap_add(acc, p->output_offset);
            output_data[b * p->units + u] = (int8_t)pe_clamp(acc, p->act_min, p->act_max);
        }
    }
}
