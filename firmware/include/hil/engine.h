/*
 * hil/engine.h - the one C interface every inference engine implements.
 *
 * Two implementations exist behind it and exactly one is linked into a firmware image:
 *   - portable (firmware/src/engine/portable/): our own INT8 engine in C11, bit-exact with
 *     TensorFlow Lite Micro's reference kernels for the supported op set;
 *   - tflm (firmware/src/engine/tflm/engine_tflm.cc): tflite::MicroInterpreter, built only
 *     when the user brings a TFLM tree.
 *
 * Lifetimes: the model bytes and the arena must outlive the engine; weights are read in place
 * from the model. Nothing is allocated on the heap. The engine state itself lives in the arena,
 * so hil_engine_t is small and may sit on the stack or in .bss.
 *
 * Errors name the first problem found: a status code plus, in hil_engine_t.error, the operator
 * index, tensor index, op/type code and byte counts that explain it.
 */
#ifndef HIL_ENGINE_H
#define HIL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HIL_ENGINE_MAX_DIMS 6
#define HIL_ENGINE_MAX_IO 8

typedef enum {
    HIL_OK = 0,
    HIL_ERR_NULL_ARG = 1,          /* a required pointer was NULL */
    HIL_ERR_TRUNCATED = 2,         /* model shorter than its header or than a size it declares */
    HIL_ERR_BAD_IDENTIFIER = 3,    /* file identifier is not "TFL3" */
    HIL_ERR_BAD_OFFSET = 4,        /* an offset, vtable or vector points outside the model */
    HIL_ERR_BAD_VERSION = 5,       /* schema version is not 3 */
    HIL_ERR_BAD_MODEL = 6,         /* structurally invalid: missing field, index out of range,
                                      shapes that do not fit the operator */
    HIL_ERR_UNSUPPORTED_OP = 7,    /* detail = builtin code (or -1 for a custom op), op_index set */
    HIL_ERR_UNSUPPORTED_TYPE = 8,  /* detail = TFLite TensorType, tensor_index set */
    HIL_ERR_BAD_QUANTIZATION = 9,  /* missing/invalid scale or zero point, or a multiplier out of range */
    HIL_ERR_ARENA_TOO_SMALL = 10,  /* needed vs given in error.needed / error.given */
    HIL_ERR_LIMIT = 11,            /* more tensors/ops/dims than this engine supports */
    HIL_ERR_BAD_ARGUMENT = 12,     /* bad index or byte count passed to an accessor */
    HIL_ERR_NOT_LOADED = 13,       /* engine used before a successful load */
    HIL_ERR_INVOKE = 14,           /* a kernel failed at run time (tflm engine) */
    HIL_ERR_COUNT_
} hil_status;

/* TFLite TensorType codes for the types the engines exchange with callers. */
typedef enum {
    HIL_DTYPE_FLOAT32 = 0,
    HIL_DTYPE_INT32 = 2,
    HIL_DTYPE_INT16 = 7,   /* 16x8 models: int16 activations, zero point 0 */
    HIL_DTYPE_INT8 = 9
} hil_dtype;

typedef struct {
    hil_status status;
    int32_t op_index;      /* operator where the problem was found, -1 if none */
    int32_t tensor_index;  /* tensor where the problem was found, -1 if none */
    int32_t detail;        /* builtin op code, tensor type, or file offset - see the status */
    uint32_t needed;       /* arena bytes needed (ARENA_TOO_SMALL) or bytes expected */
    uint32_t given;        /* arena bytes given, or bytes found */
} hil_error_t;

typedef struct {
    hil_dtype dtype;
    uint8_t rank;
    int32_t dims[HIL_ENGINE_MAX_DIMS];
    float scale;           /* per-tensor scale; 0 for non-quantized tensors */
    int32_t zero_point;
    uint32_t bytes;
} hil_tensor_info_t;

typedef struct {
    void *impl;            /* engine state, placed inside the caller's arena */
    uint32_t arena_used;   /* bytes of the arena in use after a successful load */
    hil_error_t error;     /* first problem of the last failed call */
} hil_engine_t;

/* Parse, validate and plan `model` into `arena`. On failure `out->error` says why. */
hil_status hil_engine_load(const uint8_t *model, size_t model_len, uint8_t *arena,
                           size_t arena_len, hil_engine_t *out);

int hil_engine_input_count(const hil_engine_t *engine);
int hil_engine_output_count(const hil_engine_t *engine);
hil_status hil_engine_input_info(const hil_engine_t *engine, int index, hil_tensor_info_t *info);
hil_status hil_engine_output_info(const hil_engine_t *engine, int index, hil_tensor_info_t *info);

/* Direct pointers into the arena (NULL on a bad index). */
void *hil_engine_input_data(hil_engine_t *engine, int index);
const void *hil_engine_output_data(const hil_engine_t *engine, int index);

/* Copying accessors; `len` must equal the tensor's byte size. */
hil_status hil_engine_set_input(hil_engine_t *engine, int index, const void *data, size_t len);
hil_status hil_engine_get_output(const hil_engine_t *engine, int index, void *data, size_t len);

hil_status hil_engine_invoke(hil_engine_t *engine);

/*
 * Operator by operator (the portable engine; an engine may leave these out, the tflm adapter
 * does). hil_engine_invoke_op(e, k) for k = 0 .. hil_engine_op_count(e) - 1, in order, after the
 * inputs are set, is one hil_engine_invoke. Op k's output is at hil_engine_op_output_data(e, k)
 * right after its call; a later op may overwrite it (the planner reuses memory), so read it
 * before the next call.
 */
typedef struct {
    int32_t code;             /* TFLite BuiltinOperator */
    int32_t output_index;     /* tensor index of the op's output in subgraph 0 */
    hil_tensor_info_t output;
} hil_op_info_t;

int hil_engine_op_count(const hil_engine_t *engine);
hil_status hil_engine_op_info(const hil_engine_t *engine, int op_index, hil_op_info_t *info);
const void *hil_engine_op_output_data(const hil_engine_t *engine, int op_index);
hil_status hil_engine_invoke_op(hil_engine_t *engine, int op_index);

uint32_t hil_engine_arena_used(const hil_engine_t *engine);
const hil_error_t *hil_engine_last_error(const hil_engine_t *engine);

/* "portable" or "tflm". */
const char *hil_engine_name(void);
/* Stable upper-case name of a status, e.g. "ARENA_TOO_SMALL". */
const char *hil_status_name(hil_status status);

#ifdef __cplusplus
}
#endif

#endif /* HIL_ENGINE_H */
