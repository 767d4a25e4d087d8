/*
 * The on-device pipeline (firmware/src/app/pipeline.c): raw int16 sensor windows in, the
 * configured preprocessing (hil/preprocess.h) writes the model's int8 input tensor, the engine
 * (hil/engine.h) runs, and the reply carries the codes fed, the output tensor and the cost.
 *
 * Requests (docs/protocol.md, "Pipeline"): SET_PREPROCESS, LOAD_BEGIN / LOAD_CHUNK / LOAD_END,
 * MODEL_INFO, INFER_WINDOW, INFER_CODES. Built when APP=pipeline (the Makefile's default with a
 * real engine); hil_app_setup() registers them.
 *
 * RAM: the uploaded model lives in a static buffer of HIL_MODEL_BUFFER_SIZE bytes and the
 * engine's tensors in an arena of HIL_ARENA_SIZE bytes, both 16-byte aligned. A model linked
 * into the image (make MODEL=path.tflite) is used in place from flash and loaded at boot.
 */
#ifndef HIL_PIPELINE_H
#define HIL_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

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
#define HIL_MODEL_SOURCE_NONE 0u
#define HIL_MODEL_SOURCE_LINKED 1u
#define HIL_MODEL_SOURCE_UPLOADED 2u

/* Preprocessing kinds on the wire (SET_PREPROCESS kind byte) = hil_channel_kind_t */
#define HIL_PREPROCESS_KIND_AFFINE 1u
#define HIL_PREPROCESS_KIND_THRESHOLD 2u

int hil_app_setup(void);

#endif /* HIL_PIPELINE_H */
