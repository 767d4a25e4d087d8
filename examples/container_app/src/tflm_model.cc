// The linked model on TFLite Micro's MicroInterpreter (make TFLM_DIR=<tflite-micro tree>).
// Only the six ops the container model uses are registered. The resolver and the interpreter are
// placement-constructed into static storage: no static destructors, so no __cxa_atexit or
// __dso_handle in a -nostartfiles image.
#include <cstring>
#include <new>

#include "model.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

using OpResolver = tflite::MicroMutableOpResolver<6>;

alignas(16) uint8_t tensor_arena[APP_ARENA_SIZE];
alignas(OpResolver) uint8_t resolver_storage[sizeof(OpResolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter *interpreter = nullptr;

uint8_t agent_dtype(TfLiteType type)
{
    switch (type) {
    case kTfLiteInt8:
        return HIL_AGENT_DTYPE_INT8;
    case kTfLiteInt16:
        return HIL_AGENT_DTYPE_INT16;
    case kTfLiteInt32:
        return HIL_AGENT_DTYPE_INT32;
    case kTfLiteFloat32:
        return HIL_AGENT_DTYPE_FLOAT32;
    default:
        return 0xFFu;
    }
}

void describe_tensor(hil_agent_tensor_t *out, TfLiteTensor *tensor)
{
    std::memset(out, 0, sizeof *out);
    out->data = tensor->data.raw;
    out->bytes = static_cast<uint32_t>(tensor->bytes);
    out->dtype = agent_dtype(tensor->type);
    out->rank = static_cast<uint8_t>(tensor->dims->size);
    for (int d = 0; d < tensor->dims->size && d < static_cast<int>(HIL_AGENT_MAX_DIMS); d++) {
        out->dims[d] = tensor->dims->data[d];
    }
    out->scale = tensor->params.scale;
    out->zero_point = tensor->params.zero_point;
}

} // namespace

extern "C" int app_model_setup(void)
{
    const tflite::Model *model = tflite::GetModel(app_model_data);
    if (model->version() != TFLITE_SCHEMA_VERSION) {
        return -1;
    }
    OpResolver *ops = new (resolver_storage) OpResolver();
    if (ops->AddReshape() != kTfLiteOk || ops->AddConv2D() != kTfLiteOk || ops->AddMaxPool2D() != kTfLiteOk ||
        ops->AddMean() != kTfLiteOk || ops->AddFullyConnected() != kTfLiteOk || ops->AddSoftmax() != kTfLiteOk) {
        return -2;
    }
    tflite::MicroInterpreter *interp =
        new (interpreter_storage) tflite::MicroInterpreter(model, *ops, tensor_arena, sizeof tensor_arena);
    if (interp->AllocateTensors() != kTfLiteOk) {
        return -3;
    }
    if (interp->inputs_size() != 1u || interp->outputs_size() != 1u) {
        return -4;
    }
    interpreter = interp;
    return 0;
}

extern "C" int app_model_describe(hil_agent_model_t *model)
{
    if (interpreter == nullptr) {
        return -1;
    }
    model->bytes = app_model_data;
    model->size = static_cast<uint32_t>(app_model_data_end - app_model_data);
    model->arena_used = static_cast<uint32_t>(interpreter->arena_used_bytes());
    model->n_inputs = 1u;
    model->n_outputs = 1u;
    describe_tensor(&model->input, interpreter->input(0));
    describe_tensor(&model->output, interpreter->output(0));
    return 0;
}

extern "C" int app_model_invoke(hil_agent_error_t *error)
{
    if (interpreter->Invoke() != kTfLiteOk) {
        hil_agent_error_set(error, HIL_LINK_ERR_INVOKE_FAILED, 0u);
        hil_agent_error_text(error, "Invoke failed");
        return -1;
    }
    return 0;
}

extern "C" const char *app_model_engine(void)
{
    return "tflm";
}
