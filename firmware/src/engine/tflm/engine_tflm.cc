// The tflm engine behind hil/engine.h: tflite::MicroInterpreter with a MicroMutableOpResolver
// holding exactly the portable engine's op set (tflm_ops.cc), so both engines accept the same models.
//
// Built only with ENGINE=tflm and a user-supplied TFLM_DIR (see ../engine.mk); TFLM is not part
// of this repository. The interpreter and resolver are placement-constructed at the start of
// the caller's arena; the rest of the arena is TFLM's tensor arena.

// TFLM's BUILD_TYPE=release library is compiled with -DNDEBUG -DTF_LITE_STRIP_ERROR_STRINGS.
// Its headers (and the FlatBuffers verifier's asserts) must see the same NDEBUG here, or the
// inline code pulls in assert()/abort() and, through them, newlib's stdio, malloc and syscalls.
#if defined(TF_LITE_STRIP_ERROR_STRINGS) && !defined(NDEBUG)
#define NDEBUG
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <new>

#include "hil/engine.h"
#include "tflm_ops.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tensorflow/lite/schema/schema_utils.h"

namespace {

using hil_tflm::AddOps;
using hil_tflm::kInt16Kernels;
using hil_tflm::kOpCount;
using hil_tflm::Resolver;

constexpr uint32_t kMagic = 0x484C544Du;  // "HLTM"
constexpr size_t kAlign = 16;
// TFLite schema version (TFLITE_SCHEMA_VERSION; recent TFLM trees no longer ship version.h).
constexpr uint32_t kSchemaVersion = 3;

struct TflmEngine {
  TflmEngine(const tflite::Model* model, uint8_t* tensor_arena, size_t tensor_arena_len)
      : resolver(), interpreter(model, resolver, tensor_arena, tensor_arena_len) {}
  Resolver resolver;  // declared first: the interpreter keeps a reference to it
  tflite::MicroInterpreter interpreter;
  uint32_t magic = kMagic;
};

hil_status Fail(hil_engine_t* out, hil_status status, int op_index, int tensor_index,
                int32_t detail) {
  if (out->error.status == HIL_OK) {
    out->error.status = status;
    out->error.op_index = op_index;
    out->error.tensor_index = tensor_index;
    out->error.detail = detail;
  }
  return out->error.status;
}


TflmEngine* StateOf(const hil_engine_t* engine) {
  if (engine == nullptr || engine->impl == nullptr) return nullptr;
  TflmEngine* e = static_cast<TflmEngine*>(engine->impl);
  return e->magic == kMagic ? e : nullptr;
}

// Same model checks as the portable engine where TFLM would not name the problem itself.
hil_status CheckModel(const uint8_t* model, size_t len, hil_engine_t* out) {
  if (len < 8) return Fail(out, HIL_ERR_TRUNCATED, -1, -1, 0);
  if (!tflite::ModelBufferHasIdentifier(model)) return Fail(out, HIL_ERR_BAD_IDENTIFIER, -1, -1, 4);
  flatbuffers::Verifier verifier(model, len);
  if (!tflite::VerifyModelBuffer(verifier)) return Fail(out, HIL_ERR_BAD_OFFSET, -1, -1, 0);
  const tflite::Model* m = tflite::GetModel(model);
  if (m->version() != kSchemaVersion) {
    return Fail(out, HIL_ERR_BAD_VERSION, -1, -1, static_cast<int32_t>(m->version()));
  }
  if (m->subgraphs() == nullptr || m->subgraphs()->size() < 1) {
    return Fail(out, HIL_ERR_BAD_MODEL, -1, -1, 0);
  }
  const tflite::SubGraph* graph = m->subgraphs()->Get(0);
  if (graph->tensors() != nullptr) {
    for (flatbuffers::uoffset_t i = 0; i < graph->tensors()->size(); ++i) {
      const tflite::TensorType type = graph->tensors()->Get(i)->type();
      const bool wide = type == tflite::TensorType_INT16 || type == tflite::TensorType_INT64;
      if (type != tflite::TensorType_INT8 && type != tflite::TensorType_INT32 &&
          type != tflite::TensorType_FLOAT32 && !(wide && kInt16Kernels)) {
        return Fail(out, HIL_ERR_UNSUPPORTED_TYPE, -1, static_cast<int>(i),
                    static_cast<int32_t>(type));
      }
      // int16 tensors are symmetric (TFLite's quantization spec); TFLM's int16 kernels ignore
      // a zero point, the portable engine refuses it, and so does this adapter.
      const tflite::QuantizationParameters* q = graph->tensors()->Get(i)->quantization();
      if (type == tflite::TensorType_INT16 && q != nullptr && q->scale() != nullptr &&
          q->scale()->size() > 0 && q->zero_point() != nullptr && q->zero_point()->size() > 0 &&
          q->zero_point()->Get(0) != 0) {
        return Fail(out, HIL_ERR_BAD_QUANTIZATION, -1, static_cast<int>(i),
                    static_cast<int32_t>(q->zero_point()->Get(0)));
      }
    }
  }
  return HIL_OK;
}

// The portable engine's type rules, so both engines refuse the same models: every op computes
// on INT8 or INT16 with its output of the input's type (ADD: INT8 operands only; CONV_2D,
// DEPTHWISE_CONV_2D, FULLY_CONNECTED: an INT8 filter; an INT16 DEPTHWISE_CONV_2D an INT64 bias,
// which TFLM reads as int64 whatever its type), QUANTIZE takes FLOAT32, INT8 or INT16 to INT8 or
// INT16 and DEQUANTIZE INT8 or INT16 to FLOAT32. TFLM alone would also run float kernels.
// Checked in the portable engine's order: inputs, then the output.
hil_status CheckTypes(const tflite::SubGraph* graph, int op_index, const tflite::Operator* op,
                      tflite::BuiltinOperator code, hil_engine_t* out) {
  const flatbuffers::Vector<int32_t>* inputs = op->inputs();
  const flatbuffers::Vector<int32_t>* outputs = op->outputs();
  const flatbuffers::uoffset_t tensor_count = graph->tensors() ? graph->tensors()->size() : 0;
  auto type_of = [&](const flatbuffers::Vector<int32_t>* v, flatbuffers::uoffset_t i,
                     int* tensor) -> int {
    if (v == nullptr || i >= v->size() || v->Get(i) < 0 ||
        static_cast<flatbuffers::uoffset_t>(v->Get(i)) >= tensor_count) {
      return -1;
    }
    *tensor = v->Get(i);
    return graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(*tensor))->type();
  };
  auto expect = [&](const flatbuffers::Vector<int32_t>* v, flatbuffers::uoffset_t i,
                    tflite::TensorType a, tflite::TensorType b) -> hil_status {
    int tensor = -1;
    const int type = type_of(v, i, &tensor);
    if (type < 0) return Fail(out, HIL_ERR_BAD_MODEL, op_index, tensor, static_cast<int32_t>(i));
    if (type != a && type != b) return Fail(out, HIL_ERR_UNSUPPORTED_TYPE, op_index, tensor, type);
    return HIL_OK;
  };
  constexpr tflite::TensorType kI8 = tflite::TensorType_INT8;
  constexpr tflite::TensorType kI16 = tflite::TensorType_INT16;
  constexpr tflite::TensorType kI64 = tflite::TensorType_INT64;
  constexpr tflite::TensorType kF32 = tflite::TensorType_FLOAT32;
  int first = -1;
  const int in_type = type_of(inputs, 0, &first);
  // The activation type of this op: INT16 if its input (or, for QUANTIZE, its output) is.
  const tflite::TensorType act = in_type == kI16 ? kI16 : kI8;
  hil_status st = HIL_OK;
  switch (code) {
    case tflite::BuiltinOperator_QUANTIZE:
      if (in_type == kF32 || in_type == kI8 || in_type == kI16) return expect(outputs, 0, kI8, kI16);
      return expect(inputs, 0, kF32, kI8);
    case tflite::BuiltinOperator_DEQUANTIZE:
      if ((st = expect(inputs, 0, kI8, kI16)) != HIL_OK) return st;
      return expect(outputs, 0, kF32, kF32);
    case tflite::BuiltinOperator_ADD:
      if ((st = expect(inputs, 0, kI8, kI8)) != HIL_OK) return st;
      if ((st = expect(inputs, 1, kI8, kI8)) != HIL_OK) return st;
      return expect(outputs, 0, kI8, kI8);
    case tflite::BuiltinOperator_CONV_2D:
    case tflite::BuiltinOperator_DEPTHWISE_CONV_2D:
    case tflite::BuiltinOperator_FULLY_CONNECTED:
      if ((st = expect(inputs, 0, act, act)) != HIL_OK) return st;
      if ((st = expect(inputs, 1, kI8, kI8)) != HIL_OK) return st;
      if ((st = expect(outputs, 0, act, act)) != HIL_OK) return st;
      if (act == kI16 && code == tflite::BuiltinOperator_DEPTHWISE_CONV_2D && inputs->size() > 2 &&
          inputs->Get(2) >= 0) {
        return expect(inputs, 2, kI64, kI64);
      }
      return HIL_OK;
    default:
      if ((st = expect(inputs, 0, act, act)) != HIL_OK) return st;
      return expect(outputs, 0, act, act);
  }
}

hil_status CheckOps(const tflite::Model* m, const Resolver& resolver, hil_engine_t* out) {
  const tflite::SubGraph* graph = m->subgraphs()->Get(0);
  if (graph->operators() == nullptr) return HIL_OK;
  for (flatbuffers::uoffset_t k = 0; k < graph->operators()->size(); ++k) {
    const tflite::Operator* op = graph->operators()->Get(k);
    const uint32_t index = op->opcode_index();
    if (m->operator_codes() == nullptr || index >= m->operator_codes()->size()) {
      return Fail(out, HIL_ERR_BAD_MODEL, static_cast<int>(k), -1, static_cast<int32_t>(index));
    }
    const tflite::BuiltinOperator code = tflite::GetBuiltinCode(m->operator_codes()->Get(index));
    if (resolver.FindOp(code) == nullptr) {
      return Fail(out, HIL_ERR_UNSUPPORTED_OP, static_cast<int>(k), -1, static_cast<int32_t>(code));
    }
    const hil_status st = CheckTypes(graph, static_cast<int>(k), op, code, out);
    if (st != HIL_OK) return st;
  }
  return HIL_OK;
}

TfLiteTensor* IoTensor(const hil_engine_t* engine, int index, bool input) {
  TflmEngine* e = StateOf(engine);
  if (e == nullptr) return nullptr;
  const size_t count = input ? e->interpreter.inputs_size() : e->interpreter.outputs_size();
  if (index < 0 || static_cast<size_t>(index) >= count) return nullptr;
  return input ? e->interpreter.input(static_cast<size_t>(index))
               : e->interpreter.output(static_cast<size_t>(index));
}

hil_status Info(const hil_engine_t* engine, int index, bool input, hil_tensor_info_t* info) {
  if (info == nullptr) return HIL_ERR_NULL_ARG;
  if (StateOf(engine) == nullptr) return HIL_ERR_NOT_LOADED;
  const TfLiteTensor* t = IoTensor(engine, index, input);
  if (t == nullptr || t->dims == nullptr || t->dims->size > HIL_ENGINE_MAX_DIMS) {
    return HIL_ERR_BAD_ARGUMENT;
  }
  hil_dtype dtype;
  // hil_dtype holds schema TensorType codes; TfLiteType numbers differ (kTfLiteFloat32 = 1).
  switch (t->type) {
    case kTfLiteFloat32: dtype = HIL_DTYPE_FLOAT32; break;
    case kTfLiteInt32: dtype = HIL_DTYPE_INT32; break;
    case kTfLiteInt8: dtype = HIL_DTYPE_INT8; break;
    case kTfLiteInt16: dtype = HIL_DTYPE_INT16; break;
    default: return HIL_ERR_BAD_ARGUMENT;
  }
  memset(info, 0, sizeof *info);
  info->dtype = dtype;
  info->rank = static_cast<uint8_t>(t->dims->size);
  for (int d = 0; d < t->dims->size; ++d) info->dims[d] = t->dims->data[d];
  info->scale = t->params.scale;
  info->zero_point = t->params.zero_point;
  info->bytes = static_cast<uint32_t>(t->bytes);
  return HIL_OK;
}

}  // namespace

extern "C" {

hil_status hil_engine_load(const uint8_t* model, size_t model_len, uint8_t* arena, size_t arena_len,
                           hil_engine_t* out) {
  if (out == nullptr) return HIL_ERR_NULL_ARG;
  memset(out, 0, sizeof *out);
  out->error.op_index = -1;
  out->error.tensor_index = -1;
  if (model == nullptr || arena == nullptr) return Fail(out, HIL_ERR_NULL_ARG, -1, -1, 0);
  hil_status st = CheckModel(model, model_len, out);
  if (st != HIL_OK) return st;

  const uintptr_t addr = reinterpret_cast<uintptr_t>(arena);
  const size_t lead = (kAlign - (addr % kAlign)) % kAlign;
  const size_t state_bytes = (sizeof(TflmEngine) + kAlign - 1) / kAlign * kAlign;
  if (arena_len < lead + state_bytes) {
    out->error.needed = static_cast<uint32_t>(lead + state_bytes);
    out->error.given = static_cast<uint32_t>(arena_len);
    return Fail(out, HIL_ERR_ARENA_TOO_SMALL, -1, -1, 0);
  }
  const tflite::Model* m = tflite::GetModel(model);
  uint8_t* tensor_arena = arena + lead + state_bytes;
  const size_t tensor_arena_len = arena_len - lead - state_bytes;
  TflmEngine* e = new (arena + lead) TflmEngine(m, tensor_arena, tensor_arena_len);
  if (AddOps(e->resolver) != kTfLiteOk) return Fail(out, HIL_ERR_LIMIT, -1, -1, kOpCount);
  st = CheckOps(m, e->resolver, out);
  if (st != HIL_OK) return st;
  if (e->interpreter.AllocateTensors() != kTfLiteOk) {
    // TFLM reports the cause (a kernel's Prepare check or the arena size) through MicroPrintf
    // only; `given` lets the caller try a larger arena.
    out->error.given = static_cast<uint32_t>(arena_len);
    return Fail(out, HIL_ERR_BAD_MODEL, -1, -1, -1);
  }
  out->impl = e;
  out->arena_used = static_cast<uint32_t>(lead + state_bytes + e->interpreter.arena_used_bytes());
  return HIL_OK;
}

int hil_engine_input_count(const hil_engine_t* engine) {
  TflmEngine* e = StateOf(engine);
  return e ? static_cast<int>(e->interpreter.inputs_size()) : 0;
}

int hil_engine_output_count(const hil_engine_t* engine) {
  TflmEngine* e = StateOf(engine);
  return e ? static_cast<int>(e->interpreter.outputs_size()) : 0;
}

hil_status hil_engine_input_info(const hil_engine_t* engine, int index, hil_tensor_info_t* info) {
  return Info(engine, index, true, info);
}

hil_status hil_engine_output_info(const hil_engine_t* engine, int index, hil_tensor_info_t* info) {
  return Info(engine, index, false, info);
}

void* hil_engine_input_data(hil_engine_t* engine, int index) {
  TfLiteTensor* t = IoTensor(engine, index, true);
  return t ? t->data.raw : nullptr;
}

const void* hil_engine_output_data(const hil_engine_t* engine, int index) {
  const TfLiteTensor* t = IoTensor(engine, index, false);
  return t ? t->data.raw : nullptr;
}

hil_status hil_engine_set_input(hil_engine_t* engine, int index, const void* data, size_t len) {
  if (data == nullptr) return HIL_ERR_NULL_ARG;
  if (StateOf(engine) == nullptr) return HIL_ERR_NOT_LOADED;
  TfLiteTensor* t = IoTensor(engine, index, true);
  if (t == nullptr || len != t->bytes) return HIL_ERR_BAD_ARGUMENT;
  memcpy(t->data.raw, data, len);
  return HIL_OK;
}

hil_status hil_engine_get_output(const hil_engine_t* engine, int index, void* data, size_t len) {
  if (data == nullptr) return HIL_ERR_NULL_ARG;
  if (StateOf(engine) == nullptr) return HIL_ERR_NOT_LOADED;
  const TfLiteTensor* t = IoTensor(engine, index, false);
  if (t == nullptr || len != t->bytes) return HIL_ERR_BAD_ARGUMENT;
  memcpy(data, t->data.raw, len);
  return HIL_OK;
}

hil_status hil_engine_invoke(hil_engine_t* engine) {
  TflmEngine* e = StateOf(engine);
  if (e == nullptr) return HIL_ERR_NOT_LOADED;
  return e->interpreter.Invoke() == kTfLiteOk ? HIL_OK : HIL_ERR_INVOKE;
}

uint32_t hil_engine_arena_used(const hil_engine_t* engine) {
  return engine ? engine->arena_used : 0;
}

const hil_error_t* hil_engine_last_error(const hil_engine_t* engine) {
  return engine ? &engine->error : nullptr;
}

const char* hil_engine_name(void) { return "tflm"; }

}  // extern "C"
