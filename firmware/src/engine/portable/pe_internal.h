/*
 * Internal types of the portable engine: the tensor and operator tables that live in the
 * caller's arena, the prepare/eval entry points of each kernel, and the prepare-time
 * quantization helpers (TFLite's quantization_util / kernel_util arithmetic).
 */
#ifndef PE_INTERNAL_H
#define PE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fb_reader.h"
#include "hil/engine.h"
#include "pe_int16_types.h"

#ifndef PE_WITH_INT16
#define PE_WITH_INT16 1 /* engine.mk's ENGINE_INT16=0 builds without the 16x8 kernels */
#endif

/* TFLite BuiltinOperator codes of the supported set. */
enum {
    PE_OP_ADD = 0,
    PE_OP_AVERAGE_POOL_2D = 1,
    PE_OP_CONV_2D = 3,
    PE_OP_DEPTHWISE_CONV_2D = 4,
    PE_OP_DEQUANTIZE = 6,
    PE_OP_FULLY_CONNECTED = 9,
    PE_OP_MAX_POOL_2D = 17,
    PE_OP_RESHAPE = 22,
    PE_OP_SOFTMAX = 25,
    PE_OP_MEAN = 40,
    PE_OP_SQUEEZE = 43,
    PE_OP_EXPAND_DIMS = 70,
    PE_OP_QUANTIZE = 114
};

/* BuiltinOptions union types (schema.fbs). */
enum {
    PE_OPT_NONE = 0,
    PE_OPT_CONV_2D = 1,
    PE_OPT_DEPTHWISE_CONV_2D = 2,
    PE_OPT_POOL_2D = 5,
    PE_OPT_FULLY_CONNECTED = 8,
    PE_OPT_SOFTMAX = 9,
    PE_OPT_ADD = 11,
    PE_OPT_REDUCER = 27
};

/* TFLite TensorType codes the engine knows; PE_TYPE_ANY matches every type in the op table. */
enum { PE_TYPE_FLOAT32 = 0, PE_TYPE_INT32 = 2, PE_TYPE_INT64 = PE_TYPE_INT64_CODE, PE_TYPE_INT16 = PE_TYPE_INT16_CODE,
       PE_TYPE_INT8 = 9, PE_TYPE_ANY = 0xFF };

/* TFLite ActivationFunctionType / Padding. */
enum { PE_ACT_NONE = 0, PE_ACT_RELU = 1, PE_ACT_RELU_N1_TO_1 = 2, PE_ACT_RELU6 = 3 };
enum { PE_PAD_SAME = 0, PE_PAD_VALID = 1 };

#define PE_MAX_DIMS HIL_ENGINE_MAX_DIMS
#define PE_MAX_TENSORS 512
#define PE_MAX_OPS 512
#define PE_ALIGN 16u
#define PE_UNDEFINED_OP (-2)   /* first_op/last_op of a tensor no op touches */

typedef struct {
    uint8_t *data;             /* arena for activations, model bytes for constants */
    const uint8_t *scales;     /* raw little-endian float32 scale vector (per-channel) */
    int32_t dims[PE_MAX_DIMS];
    float scale;               /* scale[0] */
    int32_t zero_point;        /* zero_point[0] */
    uint32_t bytes;
    uint32_t elements;
    uint32_t offset;           /* arena offset chosen by the planner */
    uint32_t n_scales;
    int32_t quantized_dim;
    int16_t first_op;          /* producer, -1 for graph inputs */
    int16_t last_op;           /* last consumer; op count for graph outputs */
    uint8_t type;
    uint8_t rank;
    uint8_t is_const;
    uint8_t quantized;         /* has scale and zero point */
    uint8_t placed;
    uint8_t is_input;
} pe_tensor;

/* Builtin options of every supported op, flattened. */
typedef struct {
    int32_t padding;
    int32_t stride_w;
    int32_t stride_h;
    int32_t dilation_w;
    int32_t dilation_h;
    int32_t depth_multiplier;
    int32_t filter_w;
    int32_t filter_h;
    int32_t activation;
    int32_t weights_format;
    float beta;
    int32_t quantized_bias_type; /* CONV_2D / FULLY_CONNECTED: TensorType of an absent bias */
    uint8_t keep_dims;
} pe_options;

typedef struct {
    int32_t stride_w, stride_h, dilation_w, dilation_h, pad_w, pad_h;
    int32_t depth_multiplier;
    int32_t input_offset, output_offset, act_min, act_max;   /* offsets: int8 only */
    int32_t wide_bias;         /* 16x8: 1 int64 accumulator and bias; 0 int32 (an INT32 bias) */
    int32_t *multiplier;       /* per output channel */
    int32_t *shift;
} pe_conv_params;

typedef struct {
    int32_t input_offset, filter_offset, output_offset, act_min, act_max;
    int32_t batches, units, accum_depth;
    int32_t per_channel;
    int32_t wide_bias;         /* 16x8, as pe_conv_params */
    int32_t *multiplier;       /* one per unit when per_channel, else one */
    int32_t *shift;
} pe_fc_params;

typedef struct {
    int32_t stride_w, stride_h, filter_w, filter_h, pad_w, pad_h, act_min, act_max;
} pe_pool_params;

typedef struct {
    int32_t multiplier, shift, input_zp, output_zp;
    int32_t n_axes;
    int32_t axes[PE_MAX_DIMS];  /* resolved, unique */
    int32_t n_elements;         /* elements reduced into each output */
} pe_mean_params;

typedef struct {
    int32_t input_multiplier, input_left_shift, diff_min;
    int32_t outer, depth;
} pe_softmax_params;

typedef struct {
    int32_t input1_offset, input2_offset, output_offset, left_shift;
    int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift, act_min, act_max;
    int32_t broadcast;
    int32_t out_dims[PE_MAX_DIMS];     /* output shape extended to PE_MAX_DIMS */
    int32_t stride1[PE_MAX_DIMS];      /* 0 on broadcast dimensions */
    int32_t stride2[PE_MAX_DIMS];
} pe_add_params;

typedef struct {
    float scale;               /* QUANTIZE from float: output scale; DEQUANTIZE: input scale */
    int32_t zero_point;
    int32_t input_zp, output_zp, multiplier, shift;   /* int8 -> int8 requantize */
    int32_t from_float;
} pe_quant_params;

typedef struct pe_state pe_state;
typedef struct pe_op pe_op;

/* A kernel's run step; prepare stores the one that fits the op (a fast path or the reference). */
typedef void (*pe_eval_fn)(const pe_state *s, const pe_op *op);

struct pe_op {
    pe_eval_fn eval;
    uint8_t code;
    uint8_t n_inputs;
    int16_t inputs[3];
    int16_t output;
    union {
        pe_conv_params conv;
        pe_fc_params fc;
        pe_pool_params pool;
        pe_mean_params mean;
        pe_softmax_params softmax;
        pe_add_params add;
        pe_quant_params quant;
        pe_int16_params i16;   /* the 16x8 kernels (pe_int16.h) */
    } p;
};

struct pe_state {
    pe_tensor *tensors;
    pe_op *ops;
    uint8_t *activations;      /* start of the planned region */
    hil_error_t *error;        /* where load-time problems are reported */
    uint8_t *persist;          /* bump allocator for per-channel tables */
    uint32_t persist_left;
    uint8_t *scratch;          /* shared per-op scratch, planned after the activations */
    uint32_t scratch_bytes;    /* largest request of any op (pe_request_scratch) */
    uint32_t n_tensors;
    uint32_t n_ops;
    int16_t inputs[HIL_ENGINE_MAX_IO];
    int16_t outputs[HIL_ENGINE_MAX_IO];
    uint8_t n_inputs;
    uint8_t n_outputs;
    uint32_t magic;
};

#define PE_MAGIC 0x48494C50u /* "HILP" */

/* Record the first problem; always returns `status`. */
hil_status pe_fail(pe_state *s, hil_status status, int op_index, int tensor_index, int32_t detail);
int32_t *pe_persist_i32(pe_state *s, uint32_t count);
/* Ask for `bytes` of scratch while op `op_index` runs (the planner gives every op the same
 * region, sized for the largest request; it lives in the arena, never on the heap). */
hil_status pe_request_scratch(pe_state *s, int op_index, uint32_t bytes);
/* Bytes per element of a TensorType the engine stores, 0 for others. */
uint32_t pe_type_size(uint8_t type);

/* Shape and type checks shared by kernels; each reports through pe_fail. */
hil_status pe_expect_type(pe_state *s, int op_index, int tensor, uint8_t type);
hil_status pe_expect_rank(pe_state *s, int op_index, int tensor, uint8_t rank);
hil_status pe_expect_quantized(pe_state *s, int op_index, int tensor);
/* An op's input 0 and output of `type` and quantized (the input only if `quantized_input`). */
hil_status pe_expect_unary_io(pe_state *s, int op_index, uint8_t type, int quantized_input);
/* SOFTMAX: pe_expect_unary_io with a quantized input, input and output of one shape (rank >= 1). */
hil_status pe_expect_softmax_io(pe_state *s, int op_index, uint8_t type);

/* Prepare-time arithmetic, identical to TFLite's. */
int pe_quantize_multiplier(double real_multiplier, int32_t *multiplier, int *shift);
/* CalculateActivationRangeQuantized for an output of [qmin, qmax]; pe_activation_range is int8's. */
hil_status pe_activation_range_q(pe_state *s, int op_index, int32_t activation, const pe_tensor *out,
                                 int32_t qmin, int32_t qmax, int32_t *act_min, int32_t *act_max);
hil_status pe_activation_range(pe_state *s, int op_index, int32_t activation, const pe_tensor *out,
                               int32_t *act_min, int32_t *act_max);
/* Strides, dilations and effective window sizes small enough that every index computation of
 * the window kernels stays inside int32 (tensors hold at most 2^28 elements). */
hil_status pe_check_window(pe_state *s, int op_index, int32_t filter, int32_t stride, int32_t dilation);
int32_t pe_compute_padding(int32_t stride, int32_t dilation, int32_t in_size, int32_t filter_size,
                           int32_t out_size);
int32_t pe_compute_out_size(int32_t padding, int32_t in_size, int32_t filter_size, int32_t stride,
                            int32_t dilation);

/* The op table (pe_op_table.c): one row per (builtin code, type of input 0). */
typedef hil_status (*pe_prepare_fn)(pe_state *s, int op_index, const pe_options *o);
typedef struct {
    uint8_t code;              /* BuiltinOperator */
    uint8_t input_type;        /* TensorType of input 0, or PE_TYPE_ANY */
    uint8_t options_type;      /* BuiltinOptions union type the op reads, 0 for none */
    pe_prepare_fn prepare;     /* validates, precomputes; may replace op->eval */
    pe_eval_fn eval;           /* default run step */
} pe_op_registration;

/* The row for `code` whose input type is `input_type` (or PE_TYPE_ANY); NULL when the
 * engine has no such kernel. pe_op_find(code, PE_TYPE_ANY) says whether the code is known. */
const pe_op_registration *pe_op_find(int32_t code, uint8_t input_type);

/* Planner (pe_planner.c): places the activations and the scratch region; returns bytes. */
uint32_t pe_plan(pe_state *s);
uint32_t pe_align_up(uint32_t x);

/* Kernels: prepare validates and precomputes, eval runs. PE_KERNEL(pe_x) declares
 * pe_x_prepare and its default pe_x_eval (the op table's pair); other entry points are spelled
 * out. */
#define PE_KERNEL(name)                                                          \
    hil_status name##_prepare(pe_state *s, int op_index, const pe_options *o); \
    void name##_eval(const pe_state *s, const pe_op *op)
PE_KERNEL(pe_conv);
PE_KERNEL(pe_depthwise_conv);
PE_KERNEL(pe_fully_connected);
PE_KERNEL(pe_mean);
PE_KERNEL(pe_reshape);
PE_KERNEL(pe_softmax);
PE_KERNEL(pe_add);
PE_KERNEL(pe_quantize);
PE_KERNEL(pe_dequantize);
hil_status pe_pooling_prepare(pe_state *s, int op_index, const pe_options *o);
void pe_average_pool_eval(const pe_state *s, const pe_op *op);
void pe_max_pool_eval(const pe_state *s, const pe_op *op);
void pe_max_pool_eval_fast(const pe_state *s, const pe_op *op);   /* pooling_fast.c */

static inline const pe_tensor *pe_in(const pe_state *s, const pe_op *op, int i)
{
    return op->inputs[i] < 0 ? NULL : &s->tensors[op->inputs[i]];
}

static inline const pe_tensor *pe_out(const pe_state *s, const pe_op *op)
{
    return &s->tensors[op->output];
}

#endif /* PE_INTERNAL_H */
