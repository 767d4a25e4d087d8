/* DEPTHWISE_CONV_2D, int8 per-channel. Mirrors TFLM's depthwise_conv_common.cc prepare and
 * reference_integer_ops::DepthwiseConvPerChannel (the walk: pe_conv_walk.h). */
#include "pe_conv_util.h"
#include "pe_conv_walk.h"

hil_status pe_depthwise_conv_prepare(pe_state *s, int op_index, const pe_options *o)
{
    hil_status st;
    if ((st = pe_conv_check_io(s, op_index, PE_TYPE_INT8, 3)) != HIL_OK ||
        (st = pe_depthwise_check_multiplier(s, op_index, o)) != HIL_OK) {
        return st;
    }
    return pe_conv_prepare_params(s, op_index, o, 3, &s->ops[op_index].p.conv);
}

void pe_depthwise_conv_eval(const pe_state *s, const pe_op *op)
{
    pe_depthwise_run(s, op, 0, 0);
}
