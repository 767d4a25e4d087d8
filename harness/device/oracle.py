"""tflite_micro (TFLM's reference kernels on the host) as the oracle for the device's outputs."""

from __future__ import annotations

import numpy as np

from harness.errors import ModelError


def reference_outputs(model_bytes: bytes, input_tensors: np.ndarray) -> np.ndarray:
    """Outputs of tflite_micro for each input tensor in ``input_tensors`` (n, *input_shape)."""
    try:
        from tflite_micro import runtime
    except ImportError as e:  # pragma: no cover - a dependency of the project
        raise ModelError("tflite_micro is not installed (pip install tflite-micro)") from e
    interpreter = runtime.Interpreter.from_bytes(bytes(model_bytes))
    detail = interpreter.get_output_details(0)
    outputs = np.zeros((len(input_tensors),) + tuple(detail["shape"]), dtype=detail["dtype"])
    for index, tensor in enumerate(input_tensors):
        interpreter.set_input(np.ascontiguousarray(tensor), 0)
        interpreter.invoke()
        outputs[index] = interpreter.get_output(0)
    return outputs
