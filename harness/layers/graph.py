"""The operator graph of a ``.tflite`` (subgraph 0), and how an INT8 graph corresponds to its float twin.

The mapping rule (``pair_graphs``): tensor indices mean nothing across two conversions (the
converter numbers weights, biases and activations as it goes), so INT8 and float tensors are
paired **by the graph**. Both graphs are walked op by op in execution order; QUANTIZE and
DEQUANTIZE are dropped from both (they only move between the float and the integer domain,
and the INT8 model may add them at its ends or requantize in between); what is left must be
the same sequence of operator codes. The k-th remaining op of one graph is paired with the
k-th of the other, its output tensor with the other's, and the two outputs must have the same
shape. A different op count, a different op at some position or a different shape raises
GraphMismatchError naming the first position where the graphs part. The graph input is paired
as position "input": the activation input of the first op that is kept, on each side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import ModelError
from harness.models.inspect import op_name

SKIPPED_OPS = ("QUANTIZE", "DEQUANTIZE")
_DTYPES = {0: np.dtype(np.float32), 2: np.dtype(np.int32), 7: np.dtype(np.int16), 9: np.dtype(np.int8)}


class GraphMismatchError(ModelError):
    """The INT8 and float graphs are not the same network (after QUANTIZE/DEQUANTIZE are dropped)."""


@dataclass(frozen=True)
class GraphTensor:
    index: int
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float | None        # per-tensor (first) scale; None when not quantized
    zero_point: int | None
    is_const: bool


@dataclass(frozen=True)
class GraphOp:
    index: int                 # position in the subgraph's operator list (execution order)
    code: int                  # BuiltinOperator
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    @property
    def name(self) -> str:
        return op_name(self.code)

    @property
    def output(self) -> int:
        return self.outputs[0]


@dataclass(frozen=True)
class Graph:
    ops: tuple[GraphOp, ...]
    tensors: tuple[GraphTensor, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def kept_ops(self) -> list[GraphOp]:
        return [op for op in self.ops if op.name not in SKIPPED_OPS]

    def first_activation_input(self, op: GraphOp) -> int:
        for index in op.inputs:
            if index >= 0 and not self.tensors[index].is_const:
                return index
        raise ModelError(f"op {op.index} {op.name} has no activation input")


def read_graph(model_bytes: bytes, what: str = "model") -> Graph:
    """Operators and tensors of subgraph 0 (TFLite's generated schema, shipped with tflite_micro)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
    try:
        model = schema.ModelT.InitFromPackedBuf(bytes(model_bytes), 0)
        graph = model.subgraphs[0]
    except Exception as e:  # the generated reader raises whatever struct/IndexError it meets
        raise ModelError(f"cannot read the graph: {e}", what) from e
    tensors = []
    for index, t in enumerate(graph.tensors):
        q = t.quantization
        quantized = q is not None and q.scale is not None and len(q.scale) > 0 and q.zeroPoint is not None \
            and len(q.zeroPoint) > 0
        buffer = model.buffers[t.buffer] if 0 < t.buffer < len(model.buffers) else None
        is_const = buffer is not None and buffer.data is not None and len(buffer.data) > 0
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
        tensors.append(GraphTensor(index, shape, _DTYPES.get(int(t.type), np.dtype(np.uint8)),
                                   float(q.scale[0]) if quantized else None,
                                   int(q.zeroPoint[0]) if quantized else None, is_const))
    ops = []
    for index, op in enumerate(graph.operators):
        code_table = model.operatorCodes[op.opcodeIndex]
        code = max(int(code_table.builtinCode), int(code_table.deprecatedBuiltinCode))
        ops.append(GraphOp(index, code, tuple(int(i) for i in op.inputs), tuple(int(o) for o in op.outputs)))
    return Graph(tuple(ops), tuple(tensors), tuple(int(i) for i in graph.inputs),
                 tuple(int(o) for o in graph.outputs))


@dataclass(frozen=True)
class LayerPair:
    """One position of the common op sequence: the INT8 op and tensor, the float op and tensor.
    ``position`` -1 and op index -1 is the graph input (the first kept op's activation input)."""

    position: int
    name: str
    int8_op: int
    int8_tensor: int
    float_op: int
    float_tensor: int
    shape: tuple[int, ...]

    @property
    def label(self) -> str:
        return "input" if self.position < 0 else f"{self.name} #{self.int8_op}"


def pair_graphs(int8: Graph, float_: Graph, int8_what: str = "INT8 model",
                float_what: str = "float model") -> list[LayerPair]:
    """The input pair, then one pair per kept op (module docstring). GraphMismatchError if the
    graphs do not correspond."""
    a, b = int8.kept_ops(), float_.kept_ops()
    names_a, names_b = [op.name for op in a], [op.name for op in b]
    where = f"{int8_what} vs {float_what}"
    for position, (op_a, op_b) in enumerate(zip(a, b)):
        if op_a.name != op_b.name:
            raise GraphMismatchError(
                f"the graphs part at kept op {position}: {op_a.name} (op {op_a.index}) vs {op_b.name} "
                f"(op {op_b.index}); without QUANTIZE/DEQUANTIZE the sequences are {names_a} vs {names_b}", where)
    if len(a) != len(b):
        raise GraphMismatchError(f"{len(a)} ops vs {len(b)} once QUANTIZE/DEQUANTIZE are dropped: "
                                 f"{names_a} vs {names_b}", where)
    if not a:
        raise GraphMismatchError("no op other than QUANTIZE/DEQUANTIZE to compare", where)
    input_a, input_b = int8.first_activation_input(a[0]), float_.first_activation_input(b[0])
    pairs = []
    for position, (op_a, op_b, ta, tb) in enumerate(
            [(None, None, input_a, input_b)] + [(x, y, x.output, y.output) for x, y in zip(a, b)], -1):
        shape_a, shape_b = int8.tensors[ta].shape, float_.tensors[tb].shape
        label = "input" if op_a is None else f"{op_a.name} (op {op_a.index} vs op {op_b.index})"
        if shape_a != shape_b:
            raise GraphMismatchError(f"{label}: output shape {shape_a} vs {shape_b}", where)
        pairs.append(LayerPair(position, "INPUT" if op_a is None else op_a.name,
                               -1 if op_a is None else op_a.index, ta,
                               -1 if op_b is None else op_b.index, tb, shape_a))
    return pairs
