// The op set of the tflm engine (engine_tflm.cc): a MicroMutableOpResolver with exactly the
// portable engine's ops, and the CMSIS-NN cases that run TFLM's reference kernel instead
// (tflm_ops.cc says which and why).
#ifndef HIL_TFLM_OPS_H
#define HIL_TFLM_OPS_H

#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace hil_tflm {

// 16x8 models (int16 activations) need int16-capable kernels. Without CMSIS_NN the registrations
// are TFLM's generic ones, which have them; with CMSIS_NN the _INT8 variants do not, so int16
// tensors are refused there unless HIL_TFLM_INT16 (engine.mk's TFLM_INT16=1) registers
// CMSIS-NN's int8+int16 kernels instead, for about the flash the int8-only variants save.
#if !defined(CMSIS_NN) || defined(HIL_TFLM_INT16)
constexpr bool kInt16Kernels = true;
#else
constexpr bool kInt16Kernels = false;
#endif

constexpr int kOpCount = 13;
using Resolver = tflite::MicroMutableOpResolver<kOpCount>;

// Registers the op set; kTfLiteError when the resolver is full.
TfLiteStatus AddOps(Resolver& r);

}  // namespace hil_tflm

#endif  // HIL_TFLM_OPS_H
