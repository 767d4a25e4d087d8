"""Where in the network: every intermediate tensor from the device, judged layer by layer against float.

    dump = infer_layers(client, input_codes)          # the device (INFER_LAYERS), op by op
    host = host_layers(int8_bytes, input_codes)       # tflite_micro, kPreserveAllTensors: equal, bit for bit
    report = judge_layers(client, suite_model, windows_g, compare=robust_model)
    print(report.table()); report.reason()

harness.layers.graph pairs INT8 and float tensors by the graph (its docstring has the rule);
harness.layers.figures defines the per-layer figures; harness.layers.plots draws SQNR per layer.
"""

from harness.layers.dump import LayerDump, LayerTensor, LayerTransferError, infer_layers
from harness.layers.graph import GraphMismatchError, LayerPair, pair_graphs, read_graph
from harness.layers.host import LayerInterpreter, float_layers, host_layers
from harness.layers.judge import LayerReport, ModelLayers, judge_layers, layer_figures

__all__ = ["GraphMismatchError", "LayerDump", "LayerInterpreter", "LayerPair", "LayerReport", "LayerTensor",
           "LayerTransferError", "ModelLayers", "float_layers", "host_layers", "infer_layers", "judge_layers",
           "layer_figures", "pair_graphs", "read_graph"]
