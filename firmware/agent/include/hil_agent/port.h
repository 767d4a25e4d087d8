/*
 * hil_agent/port.h - what a team implements to put its own firmware under the harness.
 *
 * The agent (firmware/agent/) speaks the link protocol of docs/protocol.md: frames, COBS, CRC,
 * INFO/BOOT, ERROR, FAULT, and the inference requests whose replies carry the input tensor
 * bytes, the outputs and the cost. It has no board, no engine and no preprocessing of its own:
 * those are the port, a const hil_agent_port_t handed to hil_agent_init() (hil_agent/agent.h).
 * docs/porting.md walks through an STM32 HAL + TFLM port.
 *
 * Required: info strings, write, cycles. Inference needs model + invoke (+ arena_size);
 * INFER_WINDOW also needs window_shape + preprocess. Everything else is optional: NULL (or
 * false) leaves the matching requests out, and INFO CAPABILITIES says what is there.
 *
 * Errors: a port function that fails returns non-zero after filling *error (hil_agent_error_t:
 * an HIL_LINK_ERR_* code, a detail word and a short text); the agent sends it as the ERROR reply.
 * The agent initialises *error (code INTERNAL, detail 0, no text) before each call.
 */
#ifndef HIL_AGENT_PORT_H
#define HIL_AGENT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil/link.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HIL_AGENT_MAX_DIMS 6u
#define HIL_AGENT_TEXT_MAX 96u

/* Tensor element types: TFLite TensorType codes (the MODEL_INFO dtype byte). The inference
 * requests move the input tensor's bytes as they are, so INT16 needs no agent change. */
#define HIL_AGENT_DTYPE_FLOAT32 0u
#define HIL_AGENT_DTYPE_INT32 2u
#define HIL_AGENT_DTYPE_INT16 7u
#define HIL_AGENT_DTYPE_INT8 9u

typedef struct {
    void *data;          /* the tensor's bytes: the input is written, the output read, in place */
    uint32_t bytes;
    uint8_t dtype;       /* HIL_AGENT_DTYPE_* */
    uint8_t rank;
    int32_t dims[HIL_AGENT_MAX_DIMS];
    float scale;         /* per-tensor quantization */
    int32_t zero_point;
} hil_agent_tensor_t;

/* The model the port runs now (filled by hil_agent_port_t.model). */
typedef struct {
    const uint8_t *bytes; /* the .tflite: INFO MODEL_CRC32 is zlib's CRC-32 over it; NULL if unknown */
    uint32_t size;
    uint32_t arena_used;  /* INFO ARENA_USED */
    uint8_t n_inputs;     /* the agent serves models with 1 input and 1 output tensor */
    uint8_t n_outputs;
    hil_agent_tensor_t input;
    hil_agent_tensor_t output;
} hil_agent_model_t;

/* One operator of the model for INFER_LAYERS (hil_agent_port_t.layer_info). */
typedef struct {
    uint32_t n_layers;    /* operators in the model */
    uint16_t op_code;     /* the engine's operator code (TFLite BuiltinOperator) */
    uint16_t tensor_index; /* the op's output tensor in the model's graph */
    hil_agent_tensor_t output; /* its output: data valid after invoke_layer(index), until the next */
} hil_agent_layer_t;

typedef struct {
    int code;             /* HIL_LINK_ERR_* (hil/protocol.h) */
    uint32_t detail;
    size_t len;
    char text[HIL_AGENT_TEXT_MAX + 1u];
} hil_agent_error_t;

/* Optional model upload (LOAD_BEGIN / LOAD_CHUNK / LOAD_END): the agent checks sizes, order and
 * CRCs and writes the chunks into buffer; the port loads the finished model. */
typedef struct {
    uint8_t *buffer;      /* RAM for an uploaded model (the engine reads weights in place) */
    uint32_t size;        /* INFO MODEL_BUFFER */
    /* The complete model (already CRC-checked) is in buffer[0..size): load it so that model()
     * reports it. Returns 0, or non-zero with *error filled (e.g. MODEL_REJECTED). */
    int (*load)(const uint8_t *model, uint32_t size, hil_agent_error_t *error);
} hil_agent_upload_t;

/* A request type the port serves itself (e.g. this harness's SET_PREPROCESS). */
typedef void (*hil_agent_handler_fn)(const hil_frame_t *request);
typedef struct {
    uint8_t type;
    hil_agent_handler_fn handler;
} hil_agent_request_t;

typedef struct {
    /* ---- INFO / BOOT strings (must outlive the agent) ---- */
    const char *firmware_version; /* e.g. "1.4.2" */
    const char *board;            /* e.g. "nucleo_f446re" (INFO BOARD) */
    const char *build_id;         /* e.g. git describe */
    const char *engine;           /* "tflm", "portable", "none", or the team's engine name */
    const char *cpu;              /* e.g. "cortex-m4f" */
    const char *cost_unit;        /* what cycles() counts: "cycles" (DWT) or "instructions" */
    const char *reset_cause;      /* e.g. "power-on", "software" */

    /* ---- required ---- */
    /* Sends len bytes on the link, blocking until they are queued or sent. Called from the
     * main loop and, for FAULT, from the fault handler: a polled write is the safe choice. */
    void (*write)(const uint8_t *data, size_t len);
    /* Free-running 32-bit counter in cost_unit (DWT->CYCCNT on a Cortex-M4): the inference
     * reply's cost is cycles() after invoke minus before, and nothing else is in between. */
    uint32_t (*cycles)(void);

    /* ---- inference (MODEL_INFO, INFER_CODES); NULL invoke = none ---- */
    /* Fills *model and returns 0 if a model is ready, else returns non-zero. The agent calls it
     * at init (a model found then is the linked one, MODEL_SOURCE "linked") and after each
     * upload; tensor pointers must stay valid until the next upload. */
    int (*model)(hil_agent_model_t *model);
    /* Runs the model on the input tensor. Returns 0, or non-zero with *error filled
     * (code HIL_LINK_ERR_INVOKE_FAILED). */
    int (*invoke)(hil_agent_error_t *error);
    uint32_t arena_size;          /* INFO ARENA_SIZE, bytes of the tensor arena */

    /* ---- raw windows (INFER_WINDOW); NULL preprocess = none ---- */
    /* The window the preprocessing wants for this input tensor: *n_axes axes x *n_samples
     * samples. Returns non-zero with *error filled when it cannot preprocess now (e.g.
     * BAD_STATE: not configured; SHAPE_MISMATCH: the tensor does not fit). */
    int (*window_shape)(const hil_agent_tensor_t *input, uint32_t *n_axes, uint32_t *n_samples,
                        hil_agent_error_t *error);
    /* The team's preprocessing: counts is n_samples x n_axes int16 (sample-major, aligned);
     * writes input->bytes bytes to input->data. Returns 0, or non-zero with *error filled. */
    int (*preprocess)(const int16_t *counts, uint32_t n_samples, uint32_t n_axes,
                      const hil_agent_tensor_t *input, hil_agent_error_t *error);

    /* ---- optional ---- */
    const hil_agent_upload_t *upload; /* model upload; NULL: the linked model only */
    /* LOAD_BEGIN drops the current model (its bytes are about to be overwritten), and a model
     * that fails the agent's checks is dropped too: forget it so model() reports none. */
    void (*unload)(void);
    /* RESET: called after the reply was written; waits for the UART to drain, resets the chip
     * (the port's next boot sends BOOT) and never returns. */
    void (*reset)(void);
    /* CRASH and FAULT_ARM (test-only): set when the fault handler calls hil_agent_report_fault(),
     * so a crash is reported rather than silent. */
    bool fault_injection;
    /* Requests the port serves itself. */
    const hil_agent_request_t *requests;
    size_t n_requests;
    /* Appends TLV entries to INFO/BOOT after the agent's; at most cap bytes, returns the count. */
    size_t (*info_extension)(uint8_t *out, size_t cap);
    /* Capability bits the port's own requests add (HIL_AGENT_CAP_SET_PREPROCESS ...). */
    uint32_t extra_capabilities;

    /* ---- optional: layer by layer (INFER_LAYERS); NULL invoke_layer = none ---- */
    /* Describes operator index of the loaded model (its output tensor). Returns 0, or non-zero
     * when there is no such operator. */
    int (*layer_info)(uint32_t index, hil_agent_layer_t *layer);
    /* Runs operator index alone. The agent calls index = 0, 1, .. n_layers - 1 in order after
     * writing the input tensor, and reads the op's output before the next call (an engine's
     * planner may reuse the memory later): together the calls are one invoke. The cost of each
     * op is cycles() around its call. Returns 0, or non-zero with *error filled. */
    int (*invoke_layer)(uint32_t index, hil_agent_error_t *error);
} hil_agent_port_t;

#ifdef __cplusplus
}
#endif

#endif /* HIL_AGENT_PORT_H */
