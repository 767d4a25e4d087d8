/* CONV_2D, int8 with per-channel (or per-tensor) filter quantization.
 * Mirrors TFLM's conv_common.cc prepare and reference_integer_ops::ConvPerChannel (the walk:
 * pe_conv_walk.h); one group runs conv_fast.c's kernel unless PE_REFERENCE_KERNELS. */
#include "pe_conv_util.h"
#include "pe_conv_walk.h"

hil_status pe_conv_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    hil_status st;
    if ((st = pe_conv_check_io(s, op_index, PE_TYPE_INT8, 0)) != HIL_OK ||
        (st = pe_conv_check_groups(s, op_index)) != HIL_OK ||
        (st = pe_conv_prepare_params(s, op_index, o, 0, &op->p.conv)) != HIL_OK) {
        return st;
    }
#ifndef PE_REFERENCE_KERNELS
    /* one group: the im2col + dual-MAC kernel of conv_fast.c */
    if (pe_in(s, op, 0)->dims[3] == pe_in(s, op, 1)->dims[3]) {
        if ((st = pe_request_scratch(s, op_index, pe_conv_fast_scratch_bytes(s, op))) != HIL_OK) {
            return st;
        }
        op->eval = pe_conv_eval_fast;
    }
#endif
    return HIL_OK;
}

void pe_conv_eval(const pe_state *s, const pe_op *op)
{
    pe_conv_run(s, op, 0, 0);
}
