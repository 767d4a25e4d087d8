"""Judge a model layer by layer: the device's every intermediate tensor against the float model's.

    report = judge_layers(client, load_suite_model("minmax"), windows_g,
                          compare=load_suite_model("robust"))
    report.reason()    # "the loss starts at the input: ..."
    report.table()     # one row per layer
    report.plot()      # PNG bytes, SQNR per layer, one line per model

For each model: the windows' input codes are what the device's preprocessing makes of them
(the bundle's fold on the windows' int16 counts, exactly as SET_PREPROCESS computes on the
device), sent with INFER_LAYERS; every op's output is checked against tflite_micro's
(host_layers, bit for bit; a difference raises LayerMismatchError, an engine fault and never a
model one) and paired with the float model's tensor by the graph (harness.layers.graph). The
float model runs on the scaler's float output for the same windows (what the suite's float
reference sees). Figures are pooled over the windows (harness.layers.figures).

The verdict, in figures:
* a layer is **lossy** when its SQNR is below ``FLOOR_DB`` (20 dB: a relative L2 error of 10 %);
* the error **appears** at the first lossy layer; a model with none has **no jump**;
* the **jump** is the largest SQNR drop between consecutive layers at or after that layer;
* the loss **starts at the input** when the float input spans less than ``INPUT_RANGE_FLOOR``
  (half) of the 255 INT8 steps, i.e. more than one of the input's 8 bits go unused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.device.deployed import DeployedPipeline
from harness.errors import ConfigError, HarnessError
from harness.layers.dump import LayerDump, infer_layers
from harness.layers.figures import FLOOR_DB, IDEAL_INT8_SQNR_DB, LayerFigures, figures_of
from harness.layers.graph import LayerPair, pair_graphs
from harness.layers.host import LayerInterpreter
from harness.signals.counts import to_counts

INPUT_RANGE_FLOOR = 0.5
COPY_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


class LayerMismatchError(HarnessError):
    """A device tensor differs from tflite_micro's: an engine fault, not a model one."""


def _stack(dumps: list[LayerDump], op_index: int) -> np.ndarray:
    return np.stack([d.input_values if op_index < 0 else d[op_index].values for d in dumps])


def layer_figures(pairs: list[LayerPair], int8_dumps: list[LayerDump], float_dumps: list[LayerDump],
                  int8_graph=None) -> list[LayerFigures]:
    """One LayerFigures per pair, pooled over the windows (dumps are per window, same order)."""
    if len(int8_dumps) != len(float_dumps) or not int8_dumps:
        raise ConfigError(f"{len(int8_dumps)} INT8 and {len(float_dumps)} float dumps: one of each per window")
    rows = []
    for pair in pairs:
        codes = _stack(int8_dumps, pair.int8_op)
        floats = _stack(float_dumps, pair.float_op)
        if pair.int8_op < 0:
            tensor = int8_graph.tensors[pair.int8_tensor] if int8_graph is not None else None
            scale, zero_point, cost = (tensor.scale, tensor.zero_point, None) if tensor else (None, None, None)
        else:
            layer = int8_dumps[0][pair.int8_op]
            scale, zero_point = layer.scale, layer.zero_point
            costs = [d[pair.int8_op].cost for d in int8_dumps]
            cost = None if any(c is None for c in costs) else float(np.mean(costs))
        rows.append(figures_of(pair.position, pair.label, pair.int8_op, pair.name, codes.reshape(
            (len(int8_dumps),) + pair.shape), scale, zero_point, floats.reshape((len(float_dumps),) + pair.shape), cost))
    return rows


def check_against_host(device: LayerDump, host: LayerDump, what: str = "") -> None:
    """Every op's output equal, element for element (float32 outputs by their bits)."""
    if len(device) != len(host):
        raise LayerMismatchError(f"{what}device dumped {len(device)} ops, tflite_micro has {len(host)}")
    for got, ref in zip(device, host):
        where = f"{what}op {got.op_index} {got.op_name} (tensor {got.tensor_index})"
        if (got.op_code, got.tensor_index, got.dtype, got.shape) != (ref.op_code, ref.tensor_index, ref.dtype, ref.shape):
            raise LayerMismatchError(f"{where}: device {got.op_name} tensor {got.tensor_index} {got.dtype}{got.shape}, "
                                     f"tflite_micro {ref.op_name} tensor {ref.tensor_index} {ref.dtype}{ref.shape}")
        same_scale = (got.scale is None and ref.scale is None) or (
            got.scale is not None and ref.scale is not None and np.float32(got.scale) == np.float32(ref.scale))
        if not same_scale or got.zero_point != ref.zero_point:
            raise LayerMismatchError(f"{where}: device quantization {got.scale}/{got.zero_point}, "
                                     f"model {ref.scale}/{ref.zero_point}")
        a, b = got.values, ref.values
        if a.dtype.kind == "f":
            a, b = a.view(np.uint32), b.view(np.uint32)
        differ = np.flatnonzero(a.ravel() != b.ravel())
        if differ.size:
            i = int(differ[0])
            raise LayerMismatchError(f"{where}: {differ.size}/{a.size} elements differ from tflite_micro; first at "
                                     f"flat index {i}: device {got.values.ravel()[i]}, tflite_micro {ref.values.ravel()[i]}")


@dataclass
class ModelLayers:
    """One model judged layer by layer."""

    name: str
    figures: list[LayerFigures]
    windows: int
    cost_unit: str = ""
    dumps: list[LayerDump] = field(default_factory=list, repr=False)   # the device's, per window

    def at(self, position: int) -> LayerFigures:
        return next(f for f in self.figures if f.position == position)

    @property
    def input(self) -> LayerFigures:
        return self.at(-1)

    @property
    def output(self) -> LayerFigures:
        return self.figures[-1]

    def first_lossy(self) -> LayerFigures | None:
        return next((f for f in self.figures if f.sqnr_db < FLOOR_DB), None)

    def first_compute(self) -> LayerFigures:
        """The first layer that computes (not the input, not a RESHAPE-like copy)."""
        return next((f for f in self.figures if f.position >= 0 and f.op_name not in COPY_OPS), self.figures[-1])

    def drops(self) -> list[float]:
        """SQNR drop into each layer from the one before (the input: from the ideal INT8 SQNR)."""
        capped = [min(f.sqnr_db, IDEAL_INT8_SQNR_DB) if not math.isnan(f.sqnr_db) else IDEAL_INT8_SQNR_DB
                  for f in self.figures]
        return [p - v for p, v in zip([IDEAL_INT8_SQNR_DB] + capped[:-1], capped)]

    def jump(self) -> tuple[LayerFigures, float] | None:
        """The largest drop at or after the first lossy layer; None: no jump."""
        lossy = self.first_lossy()
        if lossy is None:
            return None
        start = self.figures.index(lossy)
        drops = self.drops()
        best = max(range(start, len(self.figures)), key=lambda i: drops[i])
        return self.figures[best], drops[best]

    def to_dict(self) -> dict:
        jump = self.jump()
        lossy = self.first_lossy()
        return {"model": self.name, "windows": self.windows, "cost_unit": self.cost_unit,
                "first_lossy": lossy.label if lossy else None,
                "jump": {"layer": jump[0].label, "drop_db": jump[1]} if jump else None,
                "layers": [f.to_dict() for f in self.figures]}


def _db(value: float) -> str:
    return "inf" if value == math.inf else ("-inf" if value == -math.inf else f"{value:.1f}")


@dataclass
class LayerReport:
    model: ModelLayers
    compare: ModelLayers | None = None

    def _vs(self, figure: LayerFigures, what: str = "sqnr") -> str:
        if self.compare is None:
            return ""
        other = self.compare.at(figure.position)
        if what == "range":
            return f" ({self.compare.name}: {other.range_ratio:.0%})"
        return f" against {_db(other.sqnr_db)} dB for {self.compare.name}"

    @property
    def has_jump(self) -> bool:
        return self.model.jump() is not None

    @property
    def starts_at_input(self) -> bool:
        return self.has_jump and self.model.input.range_ratio < INPUT_RANGE_FLOOR

    def reason(self) -> str:
        m = self.model
        lossy, jump = m.first_lossy(), m.jump()
        output = m.output
        if lossy is None:
            lowest = min(m.figures, key=lambda f: f.sqnr_db)
            return (f"no jump: every layer keeps SQNR >= {FLOOR_DB:g} dB against float (lowest {lowest.label} "
                    f"{_db(lowest.sqnr_db)} dB{self._vs(lowest)}); output {output.label} {_db(output.sqnr_db)} dB"
                    f"{self._vs(output)}")
        parts = []
        first = m.first_compute()
        if self.starts_at_input:
            parts.append(f"the loss starts at the input: the float input spans {m.input.range_ratio:.0%} of the 255 "
                         f"INT8 steps{self._vs(m.input, 'range')} and {first.label} already has SQNR "
                         f"{_db(first.sqnr_db)} dB{self._vs(first)}")
            parts.append(f"the error crosses {FLOOR_DB:g} dB at {lossy.label} ({_db(lossy.sqnr_db)} dB{self._vs(lossy)})")
        else:
            parts.append(f"the error appears at {lossy.label}: SQNR {_db(lossy.sqnr_db)} dB{self._vs(lossy)}, "
                         f"under {FLOOR_DB:g} dB")
        layer, drop = jump
        parts.append(f"it jumps most at {layer.label} (-{drop:.1f} dB, to {_db(layer.sqnr_db)} dB)")
        if output is not lossy:
            parts.append(f"output {output.label} {_db(output.sqnr_db)} dB{self._vs(output)}")
        return "; ".join(parts)

    def table(self) -> str:
        m, c = self.model, self.compare
        cost_head = f"cost ({m.cost_unit})" if m.cost_unit else "cost"
        head = ["layer", "shape", "scale", "zp", "SQNR dB"] + ([f"{c.name} dB"] if c else []) + \
            ["drop dB", "RMSE", "L2R", "range/255s", "sat %", "codes/ch min/med", cost_head]
        rows = [head]
        for figure, drop in zip(m.figures, m.drops()):
            row = [figure.label, "x".join(str(d) for d in figure.shape),
                   f"{figure.scale:.4g}" if figure.scale else "-",
                   str(figure.zero_point) if figure.zero_point is not None else "-", _db(figure.sqnr_db)]
            if c:
                row.append(_db(c.at(figure.position).sqnr_db))
            row += [f"{drop:.1f}", f"{figure.rmse:.4g}", f"{figure.l2r:.3f}",
                    "-" if math.isnan(figure.range_ratio) else f"{figure.range_ratio:.2f}",
                    "-" if math.isnan(figure.saturation) else f"{100 * figure.saturation:.1f}",
                    f"{figure.codes_min}/{figure.codes_median:g}", "-" if figure.cost is None else f"{figure.cost:.0f}"]
            rows.append(row)
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)

    def plot(self, title: str | None = None) -> bytes:
        from harness.layers.plots import sqnr_per_layer
        models = [self.model] + ([self.compare] if self.compare else [])
        return sqnr_per_layer(models, title=title)

    def to_dict(self) -> dict:
        return {"reason": self.reason(), "has_jump": self.has_jump, "starts_at_input": self.starts_at_input,
                "floor_db": FLOOR_DB, "model": self.model.to_dict(),
                "compare": self.compare.to_dict() if self.compare else None}


# --- the device run ----------------------------------------------------------------------------

def device_input_codes(suite_model, windows_g, counts=None) -> np.ndarray:
    """The codes the device's preprocessing makes of the windows: the bundle's fold on int16 counts
    (``counts``, else the windows through the sensor's conversion, harness.signals.counts)."""
    if counts is None:
        counts = to_counts(windows_g, suite_model.counts_per_g)
    return np.asarray(suite_model.fold().codes(counts))   # int8, or int16 for a 16x8 model


def _deploy(client, suite_model, timeout_s: float):
    """The model on the device (uploaded, or the linked one checked by CRC), no fold: the layer
    dump is fed input codes."""
    pipeline = DeployedPipeline(suite_model.model_bytes, source=f"the bundle {suite_model.bundle.json_path} names "
                                f"{suite_model.bundle.int8_path.name}", timeout_s=timeout_s)
    return pipeline.deploy(client)


def judge_model(client, suite_model, windows_g, *, counts=None, check_host: bool = True,
                timeout_s: float = 10.0) -> ModelLayers:
    """Deploy ``suite_model`` (a harness.suite.suite_model.SuiteModel), run every window through
    INFER_LAYERS, check each dump against tflite_micro and pair it with the float model's."""
    windows_g = np.asarray(windows_g, dtype=np.float64)
    if windows_g.ndim == 2:
        windows_g = windows_g[None]
    if windows_g.ndim != 3 or len(windows_g) == 0:
        raise ConfigError(f"windows must have shape (n, window_len, axes), got {windows_g.shape}")
    if suite_model.bundle.float_path is None:
        raise ConfigError(f"{suite_model.name}: layer figures need the float .tflite (files.float)")
    info = _deploy(client, suite_model, timeout_s)
    codes = device_input_codes(suite_model, windows_g, counts)
    scaled = suite_model.scaler.transform(windows_g).astype(np.float32)
    int8 = LayerInterpreter(suite_model.model_bytes, f"{suite_model.name} INT8")
    float_ = LayerInterpreter(Path(suite_model.bundle.float_path).read_bytes(), f"{suite_model.name} float")
    pairs = pair_graphs(int8.graph, float_.graph, f"{suite_model.name} INT8", f"{suite_model.name} float")
    device_dumps, float_dumps = [], []
    for index, (window_codes, window_scaled) in enumerate(zip(codes, scaled)):
        dump = infer_layers(client, window_codes, model=info, timeout_s=timeout_s)
        if check_host:
            check_against_host(dump, int8.run(window_codes, "host int8"), f"{suite_model.name} window {index}: ")
        device_dumps.append(dump)
        float_dumps.append(float_.run(window_scaled, "host float"))
    unit = device_dumps[0].cost_unit
    return ModelLayers(suite_model.name, layer_figures(pairs, device_dumps, float_dumps, int8.graph),
                       len(device_dumps), unit, device_dumps)


def judge_layers(device_client, suite_model, windows_g, *, compare=None, counts=None, check_host: bool = True,
                 timeout_s: float = 10.0) -> LayerReport:
    """Where in the network the model loses against float, on ``windows_g`` (n, window_len, axes)
    in g (e.g. the windows the device got wrong). ``compare``: another SuiteModel of the same
    network (e.g. robust), judged on the same windows. The judged model is left loaded."""
    other = judge_model(device_client, compare, windows_g, counts=counts, check_host=check_host,
                        timeout_s=timeout_s) if compare is not None else None
    model = judge_model(device_client, suite_model, windows_g, counts=counts, check_host=check_host,
                        timeout_s=timeout_s)
    return LayerReport(model, other)


def failing_windows(suite_model, scenario) -> np.ndarray:
    """Indices of a scenario's windows (harness.suite scenario: .counts, .labels) that the INT8
    model gets wrong (host INT8 = device, bit for bit); empty when it gets them all right."""
    codes = device_input_codes(suite_model, None, scenario.counts)
    predicted = suite_model.int8_reference.predict_codes(codes).argmax
    return np.flatnonzero(predicted != np.asarray(scenario.labels))
