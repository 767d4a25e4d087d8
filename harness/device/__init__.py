"""Ask the device what a deployed sensor would compute: upload a model, configure the
preprocessing, stream raw windows (or input tensors) and get back the codes, outputs and cost.

See harness.device.pipeline; harness.device.oracle holds the tflite_micro reference.
"""

from harness.device.pipeline import (InferenceResult, ModelInfo, TensorSpec, as_fold, check_mirror,
                                     encode_preprocess, infer_codes, infer_windows, load_model,
                                     model_info, parse_model_info, set_preprocess)

__all__ = ["InferenceResult", "ModelInfo", "TensorSpec", "as_fold", "check_mirror", "encode_preprocess",
           "infer_codes", "infer_windows", "load_model", "model_info", "parse_model_info",
           "set_preprocess"]
