/* MAX_POOL_2D and AVERAGE_POOL_2D, int8: pe_pool.h's prepare and walk for int8 data. The max
 * pool's reference loop runs in PE_REFERENCE_KERNELS builds; the others run pooling_fast.c's
 * (the op table picks it). */
#include "pe_pool.h"

hil_status pe_pooling_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_pool_params *p = &op->p.pool;
    const hil_status st = pe_pool_prepare_shape(s, op_index, o, PE_TYPE_INT8);
    return st != HIL_OK ? st : pe_activation_range(s, op_index, o->activation, &s->tensors[op->output], &p->act_min,
                                                   &p->act_max);
}

void pe_average_pool_eval(const pe_state *s, const pe_op *op)
{
    pe_pool_run(s, op, 1, 0);
}

void pe_max_pool_eval(const pe_state *s, const pe_op *op)
{
    pe_pool_run(s, op, 0, 0);
}
