/*
 * The model linked into flash (model_data.S) and the engine that runs it: the portable INT8
 * engine (model_portable.c) or TFLite Micro's MicroInterpreter (tflm_model.cc, TFLM_DIR=...).
 * Both fill the agent's description of the model, so the port does not care which one runs.
 */
#ifndef APP_MODEL_H
#define APP_MODEL_H

#include <stdint.h>

#include "hil_agent/agent.h" /* the port types and the error helpers */

#ifdef __cplusplus
extern "C" {
#endif

/* the .tflite as linked (16-byte aligned, used in place) */
extern const uint8_t app_model_data[];
extern const uint8_t app_model_data_end[];

/* Loads the linked model into the engine's arena. Returns 0, or a negative engine step. */
int app_model_setup(void);
/* The loaded model's bytes and tensors. Returns 0, or -1 if app_model_setup() did not succeed. */
int app_model_describe(hil_agent_model_t *model);
/* Runs the model on its input tensor. Returns 0, or -1 with *error filled. */
int app_model_invoke(hil_agent_error_t *error);
/* "portable" or "tflm" (INFO ENGINE) */
const char *app_model_engine(void);

#ifdef __cplusplus
}
#endif

#endif /* APP_MODEL_H */
