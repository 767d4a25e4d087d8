/* Shared by the agent's inference sources (infer_model.c, infer_upload.c, infer.c); not its API. */
#ifndef HIL_AGENT_INFER_INTERNAL_H
#define HIL_AGENT_INFER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_internal.h"

/* The adopted model (infer_model.c). */
typedef struct {
    bool loaded;
    uint8_t source;        /* HIL_AGENT_MODEL_SOURCE_* */
    uint32_t size;
    uint32_t crc32;
    hil_agent_model_t port; /* as the port reported it when it was adopted */
} hil_agent_model_state_t;

extern hil_agent_model_state_t hil_agent_model_;

/* ---- infer_model.c ---- */
/* A tensor description of HIL_TENSOR_DESC_SIZE bytes (MODEL_INFO, LOAD_END, INFER_LAYERS). */
void hil_agent_tensor_desc(uint8_t *out, const hil_agent_tensor_t *tensor);
/* The model description of HIL_MODEL_DESC_SIZE bytes; only for a loaded model. */
size_t hil_agent_model_desc(uint8_t *out);
/* Forgets the model and has the port unload it. */
void hil_agent_model_drop(void);
/* The port has loaded a model: check it fits the protocol and take it. On failure the port's
 * model is dropped and *error says why. */
int hil_agent_model_adopt(uint8_t source, hil_agent_error_t *error);
/* true with a model loaded; else replies BAD_STATE "no model loaded" */
bool hil_agent_require_model(const hil_frame_t *request);

/* ---- infer_upload.c: LOAD_BEGIN, LOAD_CHUNK, LOAD_END ---- */
void hil_agent_upload_init(void);
void hil_agent_handle_load_begin(const hil_frame_t *request);
void hil_agent_handle_load_chunk(const hil_frame_t *request);
void hil_agent_handle_load_end(const hil_frame_t *request);

/* ---- infer.c: INFER_WINDOW, INFER_CODES, INFER_LAYERS ---- */
void hil_agent_handle_infer_window(const hil_frame_t *request);
void hil_agent_handle_infer_codes(const hil_frame_t *request);
void hil_agent_handle_infer_layers(const hil_frame_t *request);

#endif /* HIL_AGENT_INFER_INTERNAL_H */
