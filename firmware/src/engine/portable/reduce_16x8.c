/* MEAN, int16: TFLM's EvalIntegerMean<int16_t>, the int8 arithmetic (pe_reduce.h) with int16
 * data and int16 clamps. */
#include "pe_int16.h"
#include "pe_reduce.h"

hil_status pe_mean16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    (void)o; /* keep_dims only changes the output shape, which the model already states */
    return pe_mean_prepare_type(s, op_index, PE_TYPE_INT16);
}

void pe_mean16_eval(const pe_state *s, const pe_op *op)
{
    pe_mean_run(s, op, 1);
}
