"""Is this ``.tflite`` something the device engine can run, and does it fit its scaler?

Every check raises :class:`~harness.errors.ModelError` naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import ModelError
from harness.models.inspect import ModelInfo, read_model_info

#: The ops the device engine registers (its MicroMutableOpResolver). Anything else cannot run there.
SUPPORTED_OPS = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D", "MEAN",
    "RESHAPE", "EXPAND_DIMS", "SQUEEZE", "SOFTMAX", "ADD", "QUANTIZE", "DEQUANTIZE",
})

# In a full-integer model only biases (int32) and the int8 activations/weights may appear; a 16x8
# model (int16 activations, int8 weights) adds int16 activations and int64 biases.
_INT8_MODEL_DTYPES = frozenset({"int8", "int32"})
_16X8_MODEL_DTYPES = frozenset({"int8", "int16", "int32", "int64"})


def activation_dtype(info: ModelInfo) -> str:
    """"int16" for a 16x8 model (int16 input), "int8" otherwise: the input tensor's type decides."""
    return "int16" if info.input.dtype == "int16" else "int8"


def check_ops(info: ModelInfo) -> None:
    unsupported = [op for op in info.ops if op not in SUPPORTED_OPS]
    if unsupported:
        raise ModelError(
            f"op(s) {', '.join(unsupported)} outside the supported set "
            f"({', '.join(sorted(SUPPORTED_OPS))}); the device engine cannot run this model - "
            "change the architecture or register the op on the device first", info.path)


def check_int8(info: ModelInfo) -> None:
    """Full-integer: int8 input and output with quantization, no float tensors anywhere. A 16x8
    model (int16 input and output, zero point 0) passes too: it is TFLite's other full-integer mode."""
    wide = activation_dtype(info) == "int16"
    for role, tensors in (("input", info.inputs), ("output", info.outputs)):
        for tensor in tensors:
            if wide and tensor.dtype == "int16" and tensor.scale is not None:
                if tensor.zero_point != 0:
                    raise ModelError(f"16x8 model: {role} '{tensor.name}' has zero point "
                                     f"{tensor.zero_point}; int16 tensors must be symmetric (0)", info.path)
                continue
            if tensor.dtype != "int8" or tensor.scale is None:
                raise ModelError(
                    f"not a full-integer INT8 model: {role} '{tensor.name}' is {tensor.dtype}"
                    f"{'' if tensor.scale is not None else ' without quantization'}; convert with "
                    "inference_input_type=inference_output_type=tf.int8 and a representative "
                    "dataset", info.path)
    other = sorted(set(info.tensor_dtypes) - (_16X8_MODEL_DTYPES if wide else _INT8_MODEL_DTYPES))
    if other:
        raise ModelError(f"not a full-integer INT8 model: it has {', '.join(other)} tensors "
                         "(hybrid or float model)", info.path)


def check_float(info: ModelInfo) -> None:
    for role, tensor in (("input", info.input), ("output", info.output)):
        if tensor.dtype != "float32":
            raise ModelError(f"not a float model: {role} '{tensor.name}' is {tensor.dtype}",
                             info.path)


def check_scaler_match(info: ModelInfo, scaler, window_len: int | None = None) -> None:
    """The scaler's output channels (and the window length, if given) fit the model's input.

    The model input is (1, window_len, channels): what the scaler produces for one window.
    """
    shape = info.input.shape
    if len(shape) != 3 or shape[0] != 1:
        raise ModelError(f"input shape {list(shape)} is not (1, window_len, channels)", info.path)
    channels = scaler.output_channels
    if shape[2] != channels:
        raise ModelError(
            f"scaler '{scaler.name}' produces {channels} channel(s) per sample but the model "
            f"input has {shape[2]} (input shape {list(shape)}); the model was trained for "
            "another scaler", info.path)
    if window_len is not None and shape[1] != window_len:
        raise ModelError(f"model input takes windows of {shape[1]} samples, the data has "
                         f"{window_len} (input shape {list(shape)})", info.path)


def validate_model(path: str | Path, *, int8: bool = True, scaler=None,
                   window_len: int | None = None) -> ModelInfo:
    """Parse and check a model file; returns its :class:`ModelInfo`.

    ``int8=True`` requires a full-integer INT8 model, ``int8=False`` a float one.
    """
    info = read_model_info(path)
    check_ops(info)
    if int8:
        check_int8(info)
    else:
        check_float(info)
    if scaler is not None or window_len is not None:
        if scaler is not None:
            check_scaler_match(info, scaler, window_len)
        elif info.input.shape[1] != window_len:
            raise ModelError(f"model input takes windows of {info.input.shape[1]} samples, the "
                             f"data has {window_len}", info.path)
    return info
