/* DEPTHWISE_CONV_2D, int8 per-channel. Mirrors TFLM's depthwise_conv_common.cc prepare and
 * reference_integer_ops::DepthwiseConvPerChannel (the walk: pe_conv_walk.h). */
#include "pe_conv_util.h"
#include "pe_conv_walk.h"

hil_status pe_depthwise_conv_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_conv_params *p = &op->p.conv;
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    if ((st = pe_conv_check_ranks(s, op_index)) != HIL_OK ||
        (st = pe_conv_check_tensors(s, op_index, filter->dims[3])) != HIL_OK) {
        return st;
    }
    const int32_t out_c = filter->dims[3];
    if ((st = pe_depthwise_check_multiplier(s, op_index, o)) != HIL_OK ||
        (st = pe_conv_window(s, op_index, o, out_c, p)) != HIL_OK) {
        return st;
    }
    p->depth_multiplier = o->depth_multiplier;
    p->input_offset = -in->zero_point;
    p->output_offset = out->zero_point;
    if ((st = pe_conv_quant_params(s, op_index, in, filter, op->inputs[1], out, out_c, 3,
                                   &p->multiplier, &p->shift)) != HIL_OK) {
        return st;
    }
    return pe_activation_range(s, op_index, o->activation, out, &p->act_min, &p->act_max);
}

void pe_depthwise_conv_eval(const pe_state *s, const pe_op *op)
{
    pe_depthwise_run(s, op, 0, 0);
}
