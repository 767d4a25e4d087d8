// The tflm engine's op set (tflm_ops.h): the library's registrations, three of them wrapped so
// that the nodes CMSIS-NN gets wrong run TFLM's reference kernel.

// TFLM's BUILD_TYPE=release library is compiled with -DNDEBUG -DTF_LITE_STRIP_ERROR_STRINGS.
// Its headers (and the FlatBuffers verifier's asserts) must see the same NDEBUG here, or the
// inline code pulls in assert()/abort() and, through them, newlib's stdio, malloc and syscalls.
#if defined(TF_LITE_STRIP_ERROR_STRINGS) && !defined(NDEBUG)
#define NDEBUG
#endif

#include <stddef.h>
#include <stdint.h>

#include <new>

#include "tflm_ops.h"
#include "tensorflow/lite/kernels/internal/reference/integer_ops/conv.h"
#include "tensorflow/lite/kernels/internal/reference/integer_ops/fully_connected.h"
#include "tensorflow/lite/kernels/internal/reference/softmax.h"
#include "tensorflow/lite/micro/kernels/conv.h"
#include "tensorflow/lite/micro/kernels/fully_connected.h"
#include "tensorflow/lite/micro/kernels/softmax.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/micro_context.h"

namespace hil_tflm {
namespace {

// A wrapped kernel: the library's registration (CONV_2D, FULLY_CONNECTED, SOFTMAX), some of whose
// nodes run TFLM's reference kernel instead. A node's state holds the library kernel's user_data
// and the reference kernel's op data; each kernel sees its own in node->user_data.
template <typename Reference>
struct WrappedNode {
  void* kernel_data;  // the wrapped kernel's user_data
  Reference reference;
  bool use_reference;
};

template <typename Reference, TFLMRegistration& kernel>
void* WrappedInit(TfLiteContext* context, const char* buffer, size_t length) {
  void* raw = context->AllocatePersistentBuffer(context, sizeof(WrappedNode<Reference>));
  if (raw == nullptr) return nullptr;
  WrappedNode<Reference>* d = new (raw) WrappedNode<Reference>();
  d->kernel_data = kernel.init ? kernel.init(context, buffer, length) : nullptr;
  return d;
}

template <typename Reference, TFLMRegistration& kernel>
void WrappedFree(TfLiteContext* context, void* buffer) {
  if (buffer != nullptr && kernel.free != nullptr) {
    kernel.free(context, static_cast<WrappedNode<Reference>*>(buffer)->kernel_data);
  }
}

template <typename Reference, TFLMRegistration& kernel>
void WrappedReset(TfLiteContext* context, void* buffer) {
  if (buffer != nullptr && kernel.reset != nullptr &&
      !static_cast<WrappedNode<Reference>*>(buffer)->use_reference) {
    kernel.reset(context, static_cast<WrappedNode<Reference>*>(buffer)->kernel_data);
  }
}

// The library kernel's prepare or invoke on a wrapped node, with its own user_data.
template <typename Reference>
TfLiteStatus CallKernel(TfLiteStatus (*step)(TfLiteContext*, TfLiteNode*), WrappedNode<Reference>* d,
                        TfLiteContext* context, TfLiteNode* node) {
  node->user_data = d->kernel_data;
  const TfLiteStatus status = step(context, node);
  node->user_data = d;
  return status;
}

// The registration of ``kernel`` with the wrapper's init, free and reset and these prepare and invoke.
template <typename Reference, TFLMRegistration& kernel>
TFLMRegistration Wrapped(TfLiteStatus (*prepare)(TfLiteContext*, TfLiteNode*),
                         TfLiteStatus (*invoke)(TfLiteContext*, TfLiteNode*)) {
  TFLMRegistration r = kernel;
  r.init = WrappedInit<Reference, kernel>;
  r.free = WrappedFree<Reference, kernel>;
  r.reset = WrappedReset<Reference, kernel>;
  r.prepare = prepare;
  r.invoke = invoke;
  return r;
}

// CONV_2D: the library's kernel, except for a grouped convolution without a bias tensor.
// CMSIS-NN's arm_convolve_s8 (TFLM built with OPTIMIZED_KERNEL_DIR=cmsis_nn; CMSIS-NN 4ab83cc,
// still so at its 2026 head) advances the bias pointer once per group even when it is null, so
// groups 2.. read their "bias" from a small address and the outputs are wrong. Those nodes run
// TFLM's reference per-channel kernel instead, which is what the oracle runs. So do int16
// (16x8) convolutions that are grouped or have no bias: CMSIS-NN's s16 kernel ignores the groups
// and differs without a bias. Harmless without CMSIS-NN: the library's CONV_2D is then that same
// reference kernel.
TFLMRegistration g_conv_kernel;  // the wrapped registration, set by AddOps (no static constructor)

using ConvNode = WrappedNode<tflite::OpDataConv>;

TfLiteStatus ConvPrepare(TfLiteContext* context, TfLiteNode* node) {
  ConvNode* d = static_cast<ConvNode*>(node->user_data);
  if (d == nullptr) return kTfLiteError;
  tflite::MicroContext* micro_context = tflite::GetMicroContext(context);
  TfLiteTensor* input = micro_context->AllocateTempInputTensor(node, tflite::kConvInputTensor);
  TfLiteTensor* filter = micro_context->AllocateTempInputTensor(node, tflite::kConvWeightsTensor);
  const bool has_bias = node->inputs->size > tflite::kConvBiasTensor &&
                        node->inputs->data[tflite::kConvBiasTensor] != kTfLiteOptionalTensor;
  // int16: without a bias, or grouped, CMSIS-NN's s16 convolution gives other bytes than the
  // reference kernel (it ignores the groups; seen on 16x8 random models against tflite_micro).
  const bool grouped = input != nullptr && filter != nullptr && input->dims->size == 4 &&
                       filter->dims->size == 4 && input->dims->data[3] != filter->dims->data[3];
  d->use_reference = input != nullptr && filter != nullptr && input->dims->size == 4 &&
                     filter->dims->size == 4 &&
                     ((input->type == kTfLiteInt8 && grouped && !has_bias) ||
                      (input->type == kTfLiteInt16 && (grouped || !has_bias)));
  if (input != nullptr) micro_context->DeallocateTempTfLiteTensor(input);
  if (filter != nullptr) micro_context->DeallocateTempTfLiteTensor(filter);
  if (!d->use_reference) return CallKernel(g_conv_kernel.prepare, d, context, node);
  node->user_data = &d->reference;  // the reference kernel's prepare finds its op data there
  const TfLiteStatus status = tflite::ConvPrepare(context, node);
  node->user_data = d;
  return status;
}

TfLiteStatus ConvInvoke(TfLiteContext* context, TfLiteNode* node) {
  ConvNode* d = static_cast<ConvNode*>(node->user_data);
  if (!d->use_reference) return CallKernel(g_conv_kernel.invoke, d, context, node);
  const TfLiteEvalTensor* input = tflite::micro::GetEvalInput(context, node, tflite::kConvInputTensor);
  const TfLiteEvalTensor* filter =
      tflite::micro::GetEvalInput(context, node, tflite::kConvWeightsTensor);
  TfLiteEvalTensor* output = tflite::micro::GetEvalOutput(context, node, tflite::kConvOutputTensor);
  if (filter->type != kTfLiteInt8 || output->type != input->type) return kTfLiteError;
  const auto& params = *static_cast<const TfLiteConvParams*>(node->builtin_data);
  if (kInt16Kernels && input->type == kTfLiteInt16) {
    // conv.cc's int16 case: the accumulator is the bias type (int32 or int64), without a bias
    // the one quantized_bias_type names.
    const TfLiteEvalTensor* bias = tflite::micro::GetEvalInput(context, node, tflite::kConvBiasTensor);
    const bool int32_accum = (bias != nullptr && bias->type == kTfLiteInt32) ||
                             (bias == nullptr && params.quantized_bias_type == kTfLiteInt32);
    if (int32_accum) {
      tflite::reference_integer_ops::ConvPerChannel(
          tflite::ConvParamsQuantized(params, d->reference),
          d->reference.per_channel_output_multiplier, d->reference.per_channel_output_shift,
          tflite::micro::GetTensorShape(input), tflite::micro::GetTensorData<int16_t>(input),
          tflite::micro::GetTensorShape(filter), tflite::micro::GetTensorData<int8_t>(filter),
          tflite::micro::GetTensorShape(bias), tflite::micro::GetOptionalTensorData<int32_t>(bias),
          tflite::micro::GetTensorShape(output), tflite::micro::GetTensorData<int16_t>(output));
    } else {
      tflite::reference_integer_ops::ConvPerChannel(
          tflite::ConvParamsQuantized(params, d->reference),
          d->reference.per_channel_output_multiplier, d->reference.per_channel_output_shift,
          tflite::micro::GetTensorShape(input), tflite::micro::GetTensorData<int16_t>(input),
          tflite::micro::GetTensorShape(filter), tflite::micro::GetTensorData<int8_t>(filter),
          tflite::micro::GetTensorShape(bias), tflite::micro::GetOptionalTensorData<int64_t>(bias),
          tflite::micro::GetTensorShape(output), tflite::micro::GetTensorData<int16_t>(output));
    }
    return kTfLiteOk;
  }
  if (input->type != kTfLiteInt8) return kTfLiteError;
  tflite::reference_integer_ops::ConvPerChannel(
      tflite::ConvParamsQuantized(params, d->reference), d->reference.per_channel_output_multiplier,
      d->reference.per_channel_output_shift, tflite::micro::GetTensorShape(input),
      tflite::micro::GetTensorData<int8_t>(input), tflite::micro::GetTensorShape(filter),
      tflite::micro::GetTensorData<int8_t>(filter), tflite::RuntimeShape(), nullptr,
      tflite::micro::GetTensorShape(output), tflite::micro::GetTensorData<int8_t>(output));
  return kTfLiteOk;
}

// The node's input ``index`` as a temp tensor (the caller deallocates it) when it is int16 in a
// build with int16 kernels: such FULLY_CONNECTED and SOFTMAX nodes run the reference kernel.
// Otherwise nullptr, the temp tensor already deallocated.
TfLiteTensor* Int16Input(tflite::MicroContext* micro_context, TfLiteNode* node, int index) {
  TfLiteTensor* input = micro_context->AllocateTempInputTensor(node, index);
  if (input != nullptr && kInt16Kernels && input->type == kTfLiteInt16) return input;
  if (input != nullptr) micro_context->DeallocateTempTfLiteTensor(input);
  return nullptr;
}

// FULLY_CONNECTED: the library's kernel, except with an int16 input. CMSIS-NN's (TFLM built with
// OPTIMIZED_KERNEL_DIR=cmsis_nn) reads an int16 layer's bias as int64 whatever its type (an
// INT32 bias gives saturated garbage) and refuses per-channel int16 weights in prepare; TFLM's
// reference kernel, what the oracle runs, does both. Harmless without CMSIS-NN.
TFLMRegistration g_fc_kernel;

using FcNode = WrappedNode<tflite::OpDataFullyConnected>;

TfLiteStatus FcPrepare(TfLiteContext* context, TfLiteNode* node) {
  FcNode* d = static_cast<FcNode*>(node->user_data);
  if (d == nullptr) return kTfLiteError;
  tflite::MicroContext* micro_context = tflite::GetMicroContext(context);
  TfLiteTensor* input = Int16Input(micro_context, node, tflite::kFullyConnectedInputTensor);
  d->use_reference = input != nullptr;
  if (!d->use_reference) return CallKernel(g_fc_kernel.prepare, d, context, node);
  // fully_connected.cc's FullyConnectedPrepare for an int16 input.
  TfLiteTensor* filter = micro_context->AllocateTempInputTensor(node, tflite::kFullyConnectedWeightsTensor);
  TfLiteTensor* bias = micro_context->AllocateTempInputTensor(node, tflite::kFullyConnectedBiasTensor);
  TfLiteTensor* output = micro_context->AllocateTempOutputTensor(node, tflite::kFullyConnectedOutputTensor);
  const auto* params = static_cast<const TfLiteFullyConnectedParams*>(node->builtin_data);
  TfLiteStatus status = kTfLiteError;
  if (filter != nullptr && output != nullptr && filter->type == kTfLiteInt8 && output->type == kTfLiteInt16) {
    status = tflite::CalculateOpDataFullyConnected(context, params->activation, input->type, input, filter,
                                                   bias, output, &d->reference);
  }
  micro_context->DeallocateTempTfLiteTensor(input);
  if (filter != nullptr) micro_context->DeallocateTempTfLiteTensor(filter);
  if (bias != nullptr) micro_context->DeallocateTempTfLiteTensor(bias);
  if (output != nullptr) micro_context->DeallocateTempTfLiteTensor(output);
  return status;
}

template <typename BiasType>
void FcReference(const tflite::OpDataFullyConnected& data, const TfLiteEvalTensor* input,
                 const TfLiteEvalTensor* filter, const TfLiteEvalTensor* bias, TfLiteEvalTensor* output) {
  const BiasType* bias_data = tflite::micro::GetOptionalTensorData<BiasType>(bias);
  if (data.is_per_channel) {
    tflite::reference_integer_ops::FullyConnectedPerChannel(
        tflite::FullyConnectedParamsQuantized(data), data.per_channel_output_multiplier,
        reinterpret_cast<const int*>(data.per_channel_output_shift), tflite::micro::GetTensorShape(input),
        tflite::micro::GetTensorData<int16_t>(input), tflite::micro::GetTensorShape(filter),
        tflite::micro::GetTensorData<int8_t>(filter), tflite::micro::GetTensorShape(bias), bias_data,
        tflite::micro::GetTensorShape(output), tflite::micro::GetTensorData<int16_t>(output));
  } else {
    tflite::reference_integer_ops::FullyConnected(
        tflite::FullyConnectedParamsQuantized(data), tflite::micro::GetTensorShape(input),
        tflite::micro::GetTensorData<int16_t>(input), tflite::micro::GetTensorShape(filter),
        tflite::micro::GetTensorData<int8_t>(filter), tflite::micro::GetTensorShape(bias), bias_data,
        tflite::micro::GetTensorShape(output), tflite::micro::GetTensorData<int16_t>(output));
  }
}

TfLiteStatus FcInvoke(TfLiteContext* context, TfLiteNode* node) {
  FcNode* d = static_cast<FcNode*>(node->user_data);
  if (!kInt16Kernels || !d->use_reference) {  // int8-only builds drop the int16 code below
    return CallKernel(g_fc_kernel.invoke, d, context, node);
  }
  const TfLiteEvalTensor* input = tflite::micro::GetEvalInput(context, node, tflite::kFullyConnectedInputTensor);
  const TfLiteEvalTensor* filter = tflite::micro::GetEvalInput(context, node, tflite::kFullyConnectedWeightsTensor);
  const TfLiteEvalTensor* bias = tflite::micro::GetEvalInput(context, node, tflite::kFullyConnectedBiasTensor);
  TfLiteEvalTensor* output = tflite::micro::GetEvalOutput(context, node, tflite::kFullyConnectedOutputTensor);
  const auto* params = static_cast<const TfLiteFullyConnectedParams*>(node->builtin_data);
  // fully_connected.cc: the int32 accumulator with an INT32 bias, or none and quantized_bias_type INT32.
  const bool int32_accum = (bias != nullptr && bias->type == kTfLiteInt32) ||
                           (bias == nullptr && params->quantized_bias_type == kTfLiteInt32);
  if (int32_accum) {
    FcReference<int32_t>(d->reference, input, filter, bias, output);
  } else {
    FcReference<int64_t>(d->reference, input, filter, bias, output);
  }
  return kTfLiteOk;
}

// SOFTMAX: the library's kernel, except with an int16 input, which runs TFLM's reference
// SoftmaxInt16 (prepared by softmax_common.cc, the same LUTs). CMSIS-NN's arm_softmax_s16 gives
// -32768 instead of 32767 (1.0) for a row of one element (seen on 16x8 random models ending in
// MEAN then SOFTMAX over a dimension of 1).
TFLMRegistration g_softmax_kernel;

using SoftmaxNode = WrappedNode<tflite::SoftmaxParams>;

TfLiteStatus SoftmaxNodePrepare(TfLiteContext* context, TfLiteNode* node) {
  SoftmaxNode* d = static_cast<SoftmaxNode*>(node->user_data);
  if (d == nullptr) return kTfLiteError;
  tflite::MicroContext* micro_context = tflite::GetMicroContext(context);
  TfLiteTensor* input = Int16Input(micro_context, node, 0);
  d->use_reference = input != nullptr;
  if (input != nullptr) micro_context->DeallocateTempTfLiteTensor(input);
  if (!d->use_reference) return CallKernel(g_softmax_kernel.prepare, d, context, node);
  node->user_data = &d->reference;
  const TfLiteStatus status = tflite::SoftmaxPrepare(context, node);
  node->user_data = d;
  return status;
}

TfLiteStatus SoftmaxNodeInvoke(TfLiteContext* context, TfLiteNode* node) {
  SoftmaxNode* d = static_cast<SoftmaxNode*>(node->user_data);
  if (!kInt16Kernels || !d->use_reference) return CallKernel(g_softmax_kernel.invoke, d, context, node);
  const TfLiteEvalTensor* input = tflite::micro::GetEvalInput(context, node, 0);
  TfLiteEvalTensor* output = tflite::micro::GetEvalOutput(context, node, 0);
  if (output->type != kTfLiteInt16) return kTfLiteError;
  tflite::reference_ops::SoftmaxInt16(d->reference, tflite::micro::GetTensorShape(input),
                                      tflite::micro::GetTensorData<int16_t>(input),
                                      tflite::micro::GetTensorShape(output),
                                      tflite::micro::GetTensorData<int16_t>(output));
  return kTfLiteOk;
}

// The int8-only kernel variants (CMSIS-NN's, when the adapter is compiled with -DCMSIS_NN as
// engine.mk does for a cmsis_nn library) leave out the int4/int16/float code; without CMSIS_NN,
// TFLM's headers define them as the generic registrations. HIL_TFLM_INT16 takes the generic
// (int8 + int16) registrations of a CMSIS-NN library.
#if defined(CMSIS_NN) && defined(HIL_TFLM_INT16)
#define HIL_TFLM_KERNEL(name) tflite::Register_##name()
#else
#define HIL_TFLM_KERNEL(name) tflite::Register_##name##_INT8()
#endif
}  // namespace

TfLiteStatus AddOps(Resolver& r) {
  g_conv_kernel = HIL_TFLM_KERNEL(CONV_2D);
  const TFLMRegistration conv = Wrapped<tflite::OpDataConv, g_conv_kernel>(ConvPrepare, ConvInvoke);
  g_fc_kernel = HIL_TFLM_KERNEL(FULLY_CONNECTED);
  const TFLMRegistration fc = Wrapped<tflite::OpDataFullyConnected, g_fc_kernel>(FcPrepare, FcInvoke);
  g_softmax_kernel = HIL_TFLM_KERNEL(SOFTMAX);
  const TFLMRegistration softmax =
      Wrapped<tflite::SoftmaxParams, g_softmax_kernel>(SoftmaxNodePrepare, SoftmaxNodeInvoke);
  const TfLiteStatus statuses[] = {
      r.AddAdd(tflite::Register_ADD_INT8()),
      r.AddAveragePool2D(HIL_TFLM_KERNEL(AVERAGE_POOL_2D)),
      r.AddConv2D(conv),
      r.AddDepthwiseConv2D(HIL_TFLM_KERNEL(DEPTHWISE_CONV_2D)),
      r.AddDequantize(),
      r.AddFullyConnected(fc),
      r.AddMaxPool2D(HIL_TFLM_KERNEL(MAX_POOL_2D)),
      r.AddReshape(),
      r.AddSoftmax(softmax),
      r.AddMean(),
      r.AddSqueeze(),
      r.AddExpandDims(),
      r.AddQuantize(),
  };
  for (TfLiteStatus s : statuses) {
    if (s != kTfLiteOk) return s;
  }
  return kTfLiteOk;
}

}  // namespace hil_tflm
