/* Shared by the loader's files (pe_loader.c, pe_loader_tensors.c): the model's top-level
 * vectors and the engine-level error recording of hil_engine_load. */
#ifndef PE_LOADER_H
#define PE_LOADER_H

#include "pe_internal.h"

typedef struct {
    fb_vec opcodes;
    fb_vec buffers;
    fb_vec tensors;
    fb_vec inputs;
    fb_vec outputs;
    fb_vec ops;
} pe_model_view;

/* Record the first problem in e->error; returns it. */
hil_status pe_error(hil_engine_t *e, hil_status status, int op_index, int tensor_index, int32_t detail);
hil_status pe_fb_error(hil_engine_t *e, const fb_ctx *fb, int op_index, int tensor_index);

/* Tensor table and graph inputs/outputs (pe_loader_tensors.c). */
hil_status pe_parse_tensors(hil_engine_t *e, fb_ctx *fb, const pe_model_view *v, pe_state *s);
hil_status pe_parse_io(hil_engine_t *e, fb_ctx *fb, const fb_vec *vec, pe_state *s, int is_input);
/* Upper bound of activation bytes straight from the flatbuffer, for ARENA_TOO_SMALL reports
 * when even the tables do not fit. */
uint32_t pe_activation_upper_bound(const fb_ctx *model_fb, const pe_model_view *v);

#endif /* PE_LOADER_H */
