"""INT8 and float tensors are paired by the graph (harness.layers.graph), never by index."""

from __future__ import annotations

import numpy as np
import pytest
from engine_support.random_models import random_model

from harness.layers.graph import Graph, GraphMismatchError, GraphOp, GraphTensor, pair_graphs, read_graph
from harness.paths import MODELS_DIR

NAMES = sorted(p.name[:-len(".float.tflite")] for p in MODELS_DIR.glob("*.float.tflite"))
CONV, FC, QUANTIZE, DEQUANTIZE, SOFTMAX = 3, 9, 114, 6, 25


@pytest.mark.parametrize("name", NAMES)
def test_committed_twins_pair_op_by_op(name):
    int8 = read_graph((MODELS_DIR / f"{name}.tflite").read_bytes())
    float_ = read_graph((MODELS_DIR / f"{name}.float.tflite").read_bytes())
    pairs = pair_graphs(int8, float_)
    assert [p.label for p in pairs] == ["input", "RESHAPE #0", "CONV_2D #1", "MAX_POOL_2D #2", "CONV_2D #3",
                                        "MEAN #4", "FULLY_CONNECTED #5", "SOFTMAX #6"]
    for pair in pairs:
        assert int8.tensors[pair.int8_tensor].shape == float_.tensors[pair.float_tensor].shape == pair.shape
        # a 16x8 fixture's activations are int16 (int8 weights are constants, not paired)
        assert int8.tensors[pair.int8_tensor].dtype == (np.int16 if name.endswith("_16x8") else np.int8)
        assert float_.tensors[pair.float_tensor].dtype == np.float32
    # the two INT8 conversions number their weights differently: tensor indices do not correspond
    # (the 16x8 conversion happens to keep the float model's numbering: pairing is by graph anyway)
    if not name.endswith("_16x8"):
        assert any(a.inputs != b.inputs for a, b in zip(int8.ops, float_.ops))


def _graph(ops, shapes, dtype=np.int8) -> Graph:
    """ops: (code, input tensor, output tensor); tensor 0 is the graph input."""
    tensors = tuple(GraphTensor(i, s, np.dtype(dtype), 0.1, 0, False) for i, s in enumerate(shapes))
    return Graph(tuple(GraphOp(k, code, (a,), (b,)) for k, (code, a, b) in enumerate(ops)), tensors, (0,),
                 (ops[-1][2],))


def test_quantize_and_dequantize_are_dropped_from_both_sides():
    # INT8: float in -> QUANTIZE -> CONV -> FC -> DEQUANTIZE; float: CONV -> FC
    int8 = _graph([(QUANTIZE, 0, 1), (CONV, 1, 2), (FC, 2, 3), (DEQUANTIZE, 3, 4)], [(1, 4), (1, 4), (1, 8), (1, 2), (1, 2)])
    float_ = _graph([(CONV, 0, 1), (FC, 1, 2)], [(1, 4), (1, 8), (1, 2)], np.float32)
    pairs = pair_graphs(int8, float_)
    assert [(p.label, p.int8_tensor, p.float_tensor) for p in pairs] == [
        ("input", 1, 0), ("CONV_2D #1", 2, 1), ("FULLY_CONNECTED #2", 3, 2)]


def test_graphs_that_do_not_correspond_are_refused():
    base = _graph([(CONV, 0, 1), (FC, 1, 2)], [(1, 4), (1, 8), (1, 2)])
    with pytest.raises(GraphMismatchError, match="part at kept op 1: FULLY_CONNECTED"):
        pair_graphs(base, _graph([(CONV, 0, 1), (SOFTMAX, 1, 2)], [(1, 4), (1, 8), (1, 2)]))
    with pytest.raises(GraphMismatchError, match="2 ops vs 3"):
        pair_graphs(base, _graph([(CONV, 0, 1), (FC, 1, 2), (SOFTMAX, 2, 3)], [(1, 4), (1, 8), (1, 2), (1, 2)]))
    with pytest.raises(GraphMismatchError, match=r"output shape \(1, 8\) vs \(1, 6\)"):
        pair_graphs(base, _graph([(CONV, 0, 1), (FC, 1, 2)], [(1, 4), (1, 6), (1, 2)]))
    minmax = read_graph((MODELS_DIR / "minmax.tflite").read_bytes())
    with pytest.raises(GraphMismatchError):
        pair_graphs(minmax, read_graph(random_model(20_000).model))
