"""Host triage: float reference vs host INT8 for every window, on the inputs the device would get.

A window in g becomes int16 sensor counts (``harness.signals.counts.to_counts``, the sensor's
``counts_per_g``, by default the bundle's sensor). The INT8 side runs on the codes of the fold the device runs
(``fold.codes(counts)``, the host mirror), so a window the host calls a disagreement is sent to
the device as exactly those counts and the device must reproduce the host INT8 output code for
code. The float side runs the model's scaler on the same counts (``counts / counts_per_g``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.signals.counts import to_counts
from harness.errors import ConfigError
from harness.paths import MODELS_DIR


@dataclass(frozen=True)
class TriageResult:
    float_class: np.ndarray     # (n,) int64
    int8_class: np.ndarray      # (n,) int64
    float_scores: np.ndarray    # (n, classes) float32
    int8_codes: np.ndarray      # (n, classes) int8 output codes

    @property
    def disagree(self) -> np.ndarray:
        return self.float_class != self.int8_class

    def __len__(self) -> int:
        return len(self.float_class)


def resolve_model(model) -> Path:
    """A model name in fixtures/models, ``<name>.json``, or ``<name>.tflite`` -> its metadata."""
    path = Path(model)
    if path.suffix == ".tflite":
        path = path.with_name(path.name.removesuffix(".float.tflite").removesuffix(".tflite") + ".json")
    elif path.suffix != ".json":
        path = MODELS_DIR / f"{model}.json"
    if not path.is_file():
        raise ConfigError(f"model '{model}': no metadata {path} (give a fixtures/models name, a "
                          "<name>.json or the <name>.tflite beside it)")
    return path


class HostTriage:
    """Float and host INT8 references of one model bundle, plus its device fold. Window length,
    hop, rate, classes and (unless ``counts_per_g`` is given) the sensor's counts per g come from
    the bundle."""

    def pipeline(self, timeout_s: float = 10.0):
        """The INT8 model and its fold as the device gets them (harness.device.deployed), every
        request bounded by ``timeout_s``."""
        from harness.device.deployed import DeployedPipeline
        return DeployedPipeline(self.bundle.int8_path.read_bytes(), self.fold,
                                source=f"the bundle {self.json_path} names {self.bundle.int8_path.name}",
                                timeout_s=timeout_s)

    def __init__(self, model, counts_per_g: float | None = None):
        from harness.device.preprocess import as_fold
        from harness.bundle.load import load_bundle
        from harness.models.references import FloatReference, HostInt8Reference
        from harness.quant.fold import fold_scaler
        from harness.quant.tflite import QuantParams

        self.json_path = resolve_model(model)
        self.bundle = load_bundle(self.json_path)
        if self.bundle.float_path is None:
            raise ConfigError(f"{self.json_path}: replay compares the float model with the INT8 one; the bundle "
                              "names no float model (files.float)")
        sensor = self.bundle.spec.sensor if self.bundle.spec is not None else None
        self.counts_per_g = float(counts_per_g if counts_per_g is not None else sensor.counts_per_g)
        self.float_reference = FloatReference(self.bundle.float_path)
        self.int8_reference = HostInt8Reference(self.bundle.int8_path)
        self.input_params = QuantParams(self.int8_reference.input_quant.scale,
                                        self.int8_reference.input_quant.zero_point)
        export = self.bundle.metadata.scaler
        self.fold = (as_fold(export["fixed_point"]) if "fixed_point" in export else
                     fold_scaler(self.bundle.scaler, self.input_params, self.counts_per_g))
        self.classes = list(self.bundle.metadata.classes)
        self.window_len = int(self.bundle.metadata.window["length"])
        self.hop = int(self.bundle.spec.window_hop) if self.bundle.spec is not None else self.window_len
        self.rate_hz = float(self.bundle.metadata.window.get("rate_hz") or sensor.rate_hz)

    @property
    def name(self) -> str:
        return self.bundle.name

    def fingerprint(self) -> dict:
        files = self.bundle.metadata.files
        return {"name": self.name, "int8_sha256": files["int8"]["sha256"],
                "float_sha256": files["float"]["sha256"], "counts_per_g": self.counts_per_g}

    def counts(self, windows_g) -> np.ndarray:
        return to_counts(windows_g, self.counts_per_g)

    def input_codes(self, counts) -> np.ndarray:
        return self.fold.codes(counts)

    def run_counts(self, counts) -> TriageResult:
        counts = np.asarray(counts)
        if len(counts) == 0:
            empty = np.empty(0, dtype=np.int64)
            return TriageResult(empty, empty, np.empty((0, len(self.classes)), np.float32),
                                np.empty((0, len(self.classes)), np.int8))
        scaled = self.bundle.scaler.transform(counts / self.counts_per_g).astype(np.float32)
        float_prediction = self.float_reference.predict(scaled)
        int8_prediction = self.int8_reference.predict_codes(self.input_codes(counts))
        return TriageResult(float_prediction.argmax.astype(np.int64),
                            int8_prediction.argmax.astype(np.int64),
                            float_prediction.scores, int8_prediction.codes)

    def run(self, windows_g) -> TriageResult:
        """Windows (n, window_len, 3) in g -> both references' classes."""
        return self.run_counts(self.counts(windows_g))
