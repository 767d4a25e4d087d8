"""Every op's output tensor on the host: tflite_micro's interpreter with kPreserveAllTensors.

``host_layers(int8_bytes, input_codes)`` is the oracle for ``infer_layers``: TFLM's reference
kernels, op for op, so the device must equal it bit for bit per layer. ``float_layers`` runs the
float twin the same way on the scaled float input. Quantization comes from the flatbuffer
(harness.layers.graph), as the interpreter's GetTensor gives only dtype, shape and data.
"""

from __future__ import annotations

import numpy as np

from harness.errors import ModelError
from harness.layers.dump import LayerDump, LayerTensor
from harness.layers.graph import Graph, read_graph


class LayerInterpreter:
    """One preserve-all interpreter for a model, reusable across inputs."""

    def __init__(self, model_bytes: bytes, what: str = "model", arena_size: int | None = None):
        from tflite_micro import runtime
        self.model_bytes = bytes(model_bytes)
        self.what = what
        self.graph: Graph = read_graph(self.model_bytes, what)
        try:
            self._interpreter = runtime.Interpreter.from_bytes(
                self.model_bytes, arena_size=arena_size or max(1 << 20, 10 * len(self.model_bytes)),
                intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)  # the keyword is spelled so
        except (RuntimeError, ValueError) as e:
            raise ModelError(f"TFLite Micro cannot load the model: {e}", what) from e
        self.input_details = self._interpreter.get_input_details(0)

    def run(self, input_values, source: str) -> LayerDump:
        details = self.input_details
        shape = tuple(int(d) for d in details["shape"])
        array = np.asarray(input_values)
        if array.dtype != np.dtype(details["dtype"]):
            raise ModelError(f"input is {array.dtype}, the model takes {np.dtype(details['dtype'])}", self.what)
        if array.size != int(np.prod(shape)):
            raise ModelError(f"input of {array.size} elements, the model input {shape} has {int(np.prod(shape))}",
                             self.what)
        array = array.reshape(shape)
        self._interpreter.set_input(array, 0)
        try:
            self._interpreter.invoke()
        except RuntimeError as e:
            raise ModelError(f"TFLite Micro invoke failed: {e}", self.what) from e
        layers = []
        for op in self.graph.ops:
            tensor = self.graph.tensors[op.output]
            raw = self._interpreter.GetTensor(op.output, 0)
            values = np.array(raw["tensor_data"], copy=True).reshape(tuple(int(d) for d in raw["shape"]))
            layers.append(LayerTensor(op.index, op.code, op.output, values, tensor.scale, tensor.zero_point))
        return LayerDump(layers, source, "", array.copy())


def host_layers(model_bytes: bytes, input_codes) -> LayerDump:
    """The INT8 model on TFLM's reference kernels: every op's output for one input tensor."""
    return LayerInterpreter(model_bytes, "INT8 model").run(input_codes, "host int8")


def float_layers(float_model_bytes: bytes, float_input) -> LayerDump:
    """The float model: every op's output for one (scaled) float input."""
    return LayerInterpreter(float_model_bytes, "float model").run(np.asarray(float_input, np.float32), "host float")
