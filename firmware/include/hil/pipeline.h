/*
 * The on-device pipeline (src/app/pipeline.c and src/port/): raw int16 sensor windows in, the
 * configured preprocessing (hil/preprocess.h) writes the model's int8 input tensor, the engine
 * (hil/engine.h) runs, and the agent's reply carries the codes fed, the output tensor and the
 * cost.
 *
 * Requests (docs/protocol.md, "Pipeline"): SET_PREPROCESS (this port's), and the agent's
 * LOAD_BEGIN / LOAD_CHUNK / LOAD_END, MODEL_INFO, INFER_WINDOW, INFER_CODES. Built when
 * APP=pipeline (the Makefile's default with a real engine); hil_app_setup() fills the port.
 *
 * RAM: the uploaded model lives in a static buffer of HIL_MODEL_BUFFER_SIZE bytes and the
 * engine's tensors in an arena of HIL_ARENA_SIZE bytes, both 16-byte aligned. A model linked
 * into the image (make MODEL=path.tflite) is used in place from flash and loaded at boot.
 */
#ifndef HIL_PIPELINE_H
#define HIL_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "hil_agent/agent.h"

#ifndef HIL_MODEL_BUFFER_SIZE
#define HIL_MODEL_BUFFER_SIZE 65536u
#endif
#ifndef HIL_ARENA_SIZE
#define HIL_ARENA_SIZE 32768u
#endif

/* Output channels the preprocessing can have (two_stage folds 3 axes into 6). */
#define HIL_PIPELINE_MAX_CHANNELS 8u
/* Sensor axes a window may carry. */
#define HIL_PIPELINE_MAX_AXES 8u
/* Threshold entries shared by all threshold channels (6 full tables). */
#define HIL_PIPELINE_THRESHOLD_POOL (6u * 255u)

/* hil_model_source values (MODEL_INFO source byte; INFO MODEL_SOURCE string) */
#define HIL_MODEL_SOURCE_NONE HIL_AGENT_MODEL_SOURCE_NONE
#define HIL_MODEL_SOURCE_LINKED HIL_AGENT_MODEL_SOURCE_LINKED
#define HIL_MODEL_SOURCE_UPLOADED HIL_AGENT_MODEL_SOURCE_UPLOADED

/* Preprocessing kinds on the wire (SET_PREPROCESS kind byte); 1 and 2 = hil_channel_kind_t,
 * 3: affine channels to int16 codes (a 16x8 model's input), 24-byte records */
#define HIL_PREPROCESS_KIND_AFFINE 1u
#define HIL_PREPROCESS_KIND_THRESHOLD 2u
#define HIL_PREPROCESS_KIND_AFFINE16 3u

/* Application hook, called by main() before hil_agent_init(): fills the inference half of the
 * port (a weak default leaves it empty: no inference requests). Returns 0 or a negative error,
 * reported after BOOT as "app setup failed". */
int hil_app_setup(hil_agent_port_t *port);

#endif /* HIL_PIPELINE_H */
