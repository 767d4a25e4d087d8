"""The two references every device output is judged against, behind one interface.

* :class:`FloatReference` runs the float ``.tflite``.
* :class:`HostInt8Reference` runs the INT8 ``.tflite``; its input is quantized with the model's own
  input scale and zero point (``harness.quant.tflite.quantize``, the reference QUANTIZE kernel).
  A 16x8 model (int16 activations and input/output, int8 weights) runs the same way, with int16
  codes (zero point 0) in and out: "INT8" names the integer model, whichever its activation width.

Both run on ``tflite_micro.runtime.Interpreter``, TFLite Micro's reference kernels: the same
kernels the device runs, so the INT8 reference is the oracle for device outputs. ``tf.lite`` is
not used: it differs from TFLM by 1 LSB on FULLY_CONNECTED for some weights. Neither reference
needs TensorFlow.

Both take the same input: windows already passed through the model's scaler (float, shape
``(window_len, channels)`` or ``(n, window_len, channels)``), and return a :class:`Prediction`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ModelError, QuantizationError
from harness.models.inspect import ModelInfo, read_model_info
from harness.quant.tflite import QuantParams, dequantize, quantize

INTEGER_IO_DTYPES = ("int8", "int16")   # int16: a 16x8 model's input and output


@dataclass(frozen=True)
class Prediction:
    """Outputs of a batch of windows.

    ``scores`` are float class scores (softmax probabilities; dequantized for INT8 models);
    ``codes`` are the raw output codes of an integer model (int8, or int16 for 16x8; None for the
    float reference); ``input_codes`` are the codes fed to it (None for float).
    """

    scores: np.ndarray
    argmax: np.ndarray
    codes: np.ndarray | None = None
    input_codes: np.ndarray | None = None


class Reference(ABC):
    """A model run on the host. ``predict(scaled_windows) -> Prediction``."""

    kind: str = ""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.info: ModelInfo = read_model_info(self.path)
        self._model_bytes = Path(self.path).read_bytes()
        shape = self.info.input.shape
        if len(shape) < 2 or shape[0] != 1:
            raise ModelError(f"input shape {shape}: expected (1, window_len, ..., channels)",
                             self.path)
        self.input_shape: tuple[int, ...] = tuple(shape[1:])
        self.window_len = int(shape[1])
        self.channels = int(shape[-1])
        self.num_classes = int(self.info.output.shape[-1])
        self._interpreter = self._open()

    def _open(self):
        from tflite_micro import runtime
        try:
            # 256 KiB of arena is ample for the harness models (a few KB of weights).
            return runtime.Interpreter.from_bytes(self._model_bytes, arena_size=256 * 1024)
        except (RuntimeError, ValueError) as e:
            raise ModelError(f"TFLite Micro cannot load the model: {e}", self.path) from e

    def _batch(self, scaled_windows) -> np.ndarray:
        windows = np.asarray(scaled_windows, dtype=np.float32)
        if windows.ndim == 2:
            windows = windows[None]
        if windows.ndim != 3 or windows.shape[1:] != (self.window_len, self.channels):
            raise ModelError(f"input windows have shape {windows.shape}; the model takes "
                             f"(n, {self.window_len}, {self.channels}) after its scaler",
                             self.path)
        return windows

    def _invoke(self, tensor: np.ndarray) -> np.ndarray:
        self._interpreter.set_input(tensor.reshape((1, *self.input_shape)), 0)
        try:
            self._interpreter.invoke()
        except RuntimeError as e:
            raise ModelError(f"TFLite Micro invoke failed: {e}", self.path) from e
        return np.array(self._interpreter.get_output(0)).reshape(-1)

    @abstractmethod
    def predict(self, scaled_windows) -> Prediction:
        """Run every window; input is the scaler's float output."""


class FloatReference(Reference):
    """The float ``.tflite`` on TFLM's float reference kernels."""

    kind = "float"

    def __init__(self, path: str | Path):
        super().__init__(path)
        if self.info.input.dtype != "float32" or self.info.output.dtype != "float32":
            raise ModelError(f"float reference needs float32 input and output, got "
                             f"{self.info.input.dtype} -> {self.info.output.dtype}", self.path)

    def predict(self, scaled_windows) -> Prediction:
        windows = self._batch(scaled_windows)
        scores = np.stack([self._invoke(w) for w in windows]).astype(np.float32)
        return Prediction(scores=scores, argmax=scores.argmax(axis=1))


class HostInt8Reference(Reference):
    """The INT8 ``.tflite`` on TFLM's integer reference kernels: the oracle for the device."""

    kind = "int8"

    def __init__(self, path: str | Path):
        super().__init__(path)
        for role, tensor in (("input", self.info.input), ("output", self.info.output)):
            if tensor.dtype not in INTEGER_IO_DTYPES or tensor.scale is None:
                raise ModelError(f"host INT8 reference needs a quantized int8 {role} (int16 for 16x8), "
                                 f"got {tensor.dtype}", self.path)
        try:
            self.input_quant = QuantParams.for_dtype(self.info.input.scale, self.info.input.zero_point,
                                                     self.info.input.dtype)
            self.output_quant = QuantParams.for_dtype(self.info.output.scale, self.info.output.zero_point,
                                                      self.info.output.dtype)
        except QuantizationError as e:
            raise ModelError(str(e), self.path) from e

    @property
    def input_dtype(self) -> np.dtype:
        """int8, or int16 for a 16x8 model: the type of the codes the model takes."""
        return np.dtype(self.input_quant.dtype)

    def quantize_input(self, scaled_windows) -> np.ndarray:
        """The input codes the model sees for these windows (what the device is sent)."""
        return quantize(self._batch(scaled_windows), self.input_quant)

    def predict_codes(self, input_codes) -> Prediction:
        """Run already-quantized input codes (int8, int16 for 16x8), shape (n, window_len, channels)."""
        codes_in = np.asarray(input_codes)
        if codes_in.dtype != self.input_dtype:
            raise ModelError(f"input codes must be {self.input_dtype}, got {codes_in.dtype}", self.path)
        if codes_in.ndim == 2:
            codes_in = codes_in[None]
        codes_out = np.stack([self._invoke(c) for c in codes_in]).astype(self.output_quant.dtype)
        scores = dequantize(codes_out, self.output_quant)
        # argmax on codes: identical to argmax on scores (monotonic), and exact for ties.
        return Prediction(scores=scores, argmax=codes_out.argmax(axis=1), codes=codes_out,
                          input_codes=codes_in)

    def predict(self, scaled_windows) -> Prediction:
        return self.predict_codes(self.quantize_input(scaled_windows))


def open_reference(path: str | Path) -> Reference:
    """The right reference for a ``.tflite``: INT8 (and 16x8) models get the host INT8 reference."""
    info = read_model_info(path)
    return HostInt8Reference(path) if info.input.dtype in INTEGER_IO_DTYPES else FloatReference(path)
