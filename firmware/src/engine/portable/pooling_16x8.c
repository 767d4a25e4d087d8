/* MAX_POOL_2D and AVERAGE_POOL_2D, int16: pe_pool.h's prepare and walk for int16 data. */
#include "pe_int16.h"
#include "pe_pool.h"

hil_status pe_pooling16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_pool_params *p = &s->ops[op_index].p.pool;
    const hil_status st = pe_pool_prepare_shape(s, op_index, o, PE_TYPE_INT16);
    return st != HIL_OK ? st
                        : pe_activation_range16(s, op_index, o->activation, &s->tensors[s->ops[op_index].output],
                                                &p->act_min, &p->act_max);
}

__attribute__((optimize("O2"))) void pe_average_pool16_eval(const pe_state *s, const pe_op *op)
{
    pe_pool_run(s, op, 1, 1);
}

__attribute__((optimize("O2"))) void pe_max_pool16_eval(const pe_state *s, const pe_op *op)
{
    pe_pool_run(s, op, 0, 1);
}
