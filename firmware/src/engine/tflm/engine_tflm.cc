// The tflm engine behind hil/engine.h: tflite::MicroInterpreter with a MicroMutableOpResolver
// holding exactly the portable engine's op set, so both engines accept the same models.
//
// Built only with ENGINE=tflm and a user-supplied TFLM_DIR (see ../engine.mk); TFLM is not part
// of this repository. The interpreter and resolver are placement-constructed at the start of
// the caller's arena; the rest of the arena is TFLM's tensor arena.

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <new>

#include "hil/engine.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tensorflow/lite/schema/schema_utils.h"

namespace {

constexpr int kOpCount = 13;
constexpr uint32_t kMagic = 0x484C544Du;  // "HLTM"
constexpr size_t kAlign = 16;
// TFLite schema version (TFLITE_SCHEMA_VERSION; recent TFLM trees no longer ship version.h).
constexpr uint32_t kSchemaVersion = 3;

using Resolver = tflite::MicroMutableOpResolver<kOpCount>;

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

TfLiteStatus AddOps(Resolver& r) {
  const TfLiteStatus statuses[] = {
      r.AddAdd(),        r.AddAveragePool2D(), r.AddConv2D(),  r.AddDepthwiseConv2D(),
      r.AddDequantize(), r.AddFullyConnected(), r.AddMaxPool2D(), r.AddReshape(),
      r.AddSoftmax(),    r.AddMean(),          r.AddSqueeze(),  r.AddExpandDims(),
      r.AddQuantize(),
  };
  for (TfLiteStatus s : statuses) {
    if (s != kTfLiteOk) return s;
  }
  return kTfLiteOk;
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
      if (type != tflite::TensorType_INT8 && type != tflite::TensorType_INT32 &&
          type != tflite::TensorType_FLOAT32) {
        return Fail(out, HIL_ERR_UNSUPPORTED_TYPE, -1, static_cast<int>(i),
                    static_cast<int32_t>(type));
      }
    }
  }
  return HIL_OK;
}

hil_status CheckOps(const tflite::Model* m, const Resolver& resolver, hil_engine_t* out) {
  const tflite::SubGraph* graph = m->subgraphs()->Get(0);
  if (graph->operators() == nullptr) return HIL_OK;
  for (flatbuffers::uoffset_t k = 0; k < graph->operators()->size(); ++k) {
    const uint32_t index = graph->operators()->Get(k)->opcode_index();
    if (m->operator_codes() == nullptr || index >= m->operator_codes()->size()) {
      return Fail(out, HIL_ERR_BAD_MODEL, static_cast<int>(k), -1, static_cast<int32_t>(index));
    }
    const tflite::BuiltinOperator code = tflite::GetBuiltinCode(m->operator_codes()->Get(index));
    if (resolver.FindOp(code) == nullptr) {
      return Fail(out, HIL_ERR_UNSUPPORTED_OP, static_cast<int>(k), -1, static_cast<int32_t>(code));
    }
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
  memset(info, 0, sizeof *info);
  info->dtype = static_cast<hil_dtype>(t->type);
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
