"""Ask the device what a deployed sensor would compute: upload a model, configure the
preprocessing, stream raw windows (or input tensors) and get back the codes, outputs and cost.

harness.device.pipeline (model, inference), .preprocess (the fold on the wire), .stream (pipelined
requests), .deployed (DeployedPipeline: what a run told the device, deployed again after a reset),
.recovery (device faults); harness.device.oracle holds the tflite_micro reference.
"""

from harness.device.deployed import DeployedPipeline
from harness.device.pipeline import (ModelInfo, TensorSpec, check_mirror, infer_codes, infer_windows,
                                     load_model, model_info, parse_model_info)
from harness.device.preprocess import as_fold, encode_preprocess, set_preprocess
from harness.device.stream import InferenceResult

__all__ = ["DeployedPipeline", "InferenceResult", "ModelInfo", "TensorSpec", "as_fold", "check_mirror",
           "encode_preprocess", "infer_codes", "infer_windows", "load_model", "model_info", "parse_model_info",
           "set_preprocess"]
