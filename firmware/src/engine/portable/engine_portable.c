/*
 * The runtime, as TFLM's MicroInterpreter: the hil/engine.h calls on a loaded engine (tensor
 * info and data, invoke, per-op invoke and info). hil_engine_load is in pe_loader.c. Each op
 * runs the eval its prepare chose (pe_op.eval).
 */
#include <string.h>

#include "hil/engine.h"
#include "pe_internal.h"

static pe_state *pe_state_of(const hil_engine_t *engine)
{
    if (engine == NULL || engine->impl == NULL) {
        return NULL;
    }
    pe_state *s = (pe_state *)engine->impl;
    return s->magic == PE_MAGIC ? s : NULL;
}

int hil_engine_input_count(const hil_engine_t *engine)
{
    const pe_state *s = pe_state_of(engine);
    return s ? s->n_inputs : 0;
}

int hil_engine_output_count(const hil_engine_t *engine)
{
    const pe_state *s = pe_state_of(engine);
    return s ? s->n_outputs : 0;
}

static pe_tensor *pe_io_tensor(const hil_engine_t *engine, int index, int is_input)
{
    pe_state *s = pe_state_of(engine);
    if (s == NULL) {
        return NULL;
    }
    const int count = is_input ? s->n_inputs : s->n_outputs;
    if (index < 0 || index >= count) {
        return NULL;
    }
    return &s->tensors[is_input ? s->inputs[index] : s->outputs[index]];
}

static hil_status pe_info(const hil_engine_t *engine, int index, int is_input, hil_tensor_info_t *info)
{
    if (info == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    if (pe_state_of(engine) == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    const pe_tensor *t = pe_io_tensor(engine, index, is_input);
    if (t == NULL) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    memset(info, 0, sizeof *info);
    info->dtype = (hil_dtype)t->type;
    info->rank = t->rank;
    for (uint8_t d = 0; d < t->rank; ++d) {
        info->dims[d] = t->dims[d];
    }
    info->scale = t->quantized ? t->scale : 0.0f;
    info->zero_point = t->quantized ? t->zero_point : 0;
    info->bytes = t->bytes;
    return HIL_OK;
}

hil_status hil_engine_input_info(const hil_engine_t *engine, int index, hil_tensor_info_t *info)
{
    return pe_info(engine, index, 1, info);
}

hil_status hil_engine_output_info(const hil_engine_t *engine, int index, hil_tensor_info_t *info)
{
    return pe_info(engine, index, 0, info);
}

void *hil_engine_input_data(hil_engine_t *engine, int index)
{
    pe_tensor *t = pe_io_tensor(engine, index, 1);
    return t ? t->data : NULL;
}

const void *hil_engine_output_data(const hil_engine_t *engine, int index)
{
    const pe_tensor *t = pe_io_tensor(engine, index, 0);
    return t ? t->data : NULL;
}

hil_status hil_engine_set_input(hil_engine_t *engine, int index, const void *data, size_t len)
{
    if (data == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    if (pe_state_of(engine) == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    pe_tensor *t = pe_io_tensor(engine, index, 1);
    if (t == NULL || len != t->bytes) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    memcpy(t->data, data, len);
    return HIL_OK;
}

hil_status hil_engine_get_output(const hil_engine_t *engine, int index, void *data, size_t len)
{
    if (data == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    if (pe_state_of(engine) == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    const pe_tensor *t = pe_io_tensor(engine, index, 0);
    if (t == NULL || len != t->bytes) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    memcpy(data, t->data, len);
    return HIL_OK;
}

static hil_status pe_eval_op(const pe_state *s, const pe_op *op)
{
    if (op->eval == NULL) {
        return HIL_ERR_INVOKE;
    }
    op->eval(s, op);
    return HIL_OK;
}

hil_status hil_engine_invoke(hil_engine_t *engine)
{
    const pe_state *s = pe_state_of(engine);
    if (s == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    for (uint32_t k = 0; k < s->n_ops; ++k) {
        const hil_status st = pe_eval_op(s, &s->ops[k]);
        if (st != HIL_OK) {
            return st;
        }
    }
    return HIL_OK;
}

int hil_engine_op_count(const hil_engine_t *engine)
{
    const pe_state *s = pe_state_of(engine);
    return s ? (int)s->n_ops : 0;
}

hil_status hil_engine_op_info(const hil_engine_t *engine, int op_index, hil_op_info_t *info)
{
    if (info == NULL) {
        return HIL_ERR_NULL_ARG;
    }
    const pe_state *s = pe_state_of(engine);
    if (s == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    if (op_index < 0 || (uint32_t)op_index >= s->n_ops) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    const pe_op *op = &s->ops[op_index];
    const pe_tensor *t = pe_out(s, op);
    memset(info, 0, sizeof *info);
    info->code = op->code;
    info->output_index = op->output;
    info->output.dtype = (hil_dtype)t->type;
    info->output.rank = t->rank;
    for (uint8_t d = 0; d < t->rank; ++d) {
        info->output.dims[d] = t->dims[d];
    }
    info->output.scale = t->quantized ? t->scale : 0.0f;
    info->output.zero_point = t->quantized ? t->zero_point : 0;
    info->output.bytes = t->bytes;
    return HIL_OK;
}

const void *hil_engine_op_output_data(const hil_engine_t *engine, int op_index)
{
    const pe_state *s = pe_state_of(engine);
    if (s == NULL || op_index < 0 || (uint32_t)op_index >= s->n_ops) {
        return NULL;
    }
    return pe_out(s, &s->ops[op_index])->data;
}

hil_status hil_engine_invoke_op(hil_engine_t *engine, int op_index)
{
    const pe_state *s = pe_state_of(engine);
    if (s == NULL) {
        return HIL_ERR_NOT_LOADED;
    }
    if (op_index < 0 || (uint32_t)op_index >= s->n_ops) {
        return HIL_ERR_BAD_ARGUMENT;
    }
    return pe_eval_op(s, &s->ops[op_index]);
}

uint32_t hil_engine_arena_used(const hil_engine_t *engine)
{
    return engine ? engine->arena_used : 0;
}

const hil_error_t *hil_engine_last_error(const hil_engine_t *engine)
{
    return engine ? &engine->error : NULL;
}

const char *hil_engine_name(void)
{
    return "portable";
}
