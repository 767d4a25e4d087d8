/* RESHAPE, SQUEEZE, EXPAND_DIMS: the bytes do not change, only the shape the model states. */
#include <string.h>

#include "pe_internal.h"

hil_status pe_reshape_prepare(pe_state *s, int op_index, const pe_options *o)
{
    const pe_op *op = &s->ops[op_index];
    hil_status st;
    (void)o;
    if (op->n_inputs < 1 || op->inputs[0] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    if ((st = pe_expect_type(s, op_index, op->inputs[0], PE_TYPE_INT8)) != HIL_OK ||
        (st = pe_expect_type(s, op_index, op->output, PE_TYPE_INT8)) != HIL_OK) {
        return st;
    }
    if (s->tensors[op->inputs[0]].elements != s->tensors[op->output].elements) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, op->output, (int32_t)s->tensors[op->output].elements);
    }
    return HIL_OK;
}

void pe_reshape_eval(const pe_state *s, const pe_op *op)
{
    const pe_tensor *in = pe_in(s, op, 0);
    const pe_tensor *out = pe_out(s, op);
    if (out->data != in->data) {
        memmove(out->data, in->data, out->bytes);
    }
}
