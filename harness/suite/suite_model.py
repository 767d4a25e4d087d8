"""A model under test: its files, scaler, fold, the two host references and its calibration set."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from harness.errors import ConfigError
from harness.paths import MODELS_DIR


def available_models(models_dir: str | Path = MODELS_DIR) -> list[str]:
    from harness.bundle.load import list_bundles
    return [p.stem for p in list_bundles(models_dir)]


@dataclass
class SuiteModel:
    """``load_suite_model(name)``: a checked bundle (harness.bundle.load.load_bundle) and
    everything the suite derives from it, each computed once."""

    bundle: object  # harness.bundle.load.ModelBundle

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def metadata(self):
        return self.bundle.metadata

    @property
    def classes(self) -> list[str]:
        return list(self.metadata.classes)

    @property
    def scaler(self):
        return self.bundle.scaler

    @property
    def spec(self):
        """The bundle's suite sections (harness.bundle.spec.BundleSpec)."""
        return self.bundle.spec

    @property
    def watched_classes(self) -> list[str]:
        return list(self.spec.watched_classes)

    @property
    def counts_per_g(self) -> float:
        return float(self.spec.sensor.counts_per_g)

    @property
    def window_len(self) -> int:
        return int(self.metadata.window["length"])

    @property
    def band(self):
        from harness.quant.metrics import Band
        return Band(*self.spec.band_g)

    @property
    def expectations(self):
        return self.spec.expectations

    @property
    def synthetic(self) -> bool:
        """The harness's own container recipe (the fixtures), not the team's recordings."""
        return bool(self.spec.data.synthetic)

    @property
    def scaler_label(self) -> str:
        training = self.metadata.training
        kind = training.get("scaler") or self.scaler.name
        params = training.get("scaler_params") if "scaler" in training else {}
        args = ",".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in (params or {}).items())
        return kind + (f":{args}" if args else "")

    @property
    def method(self) -> str:
        return str(self.metadata.training.get("method") or self.metadata.provenance.get("method") or "").upper()

    @property
    def model_bytes(self) -> bytes:
        return Path(self.bundle.int8_path).read_bytes()

    @cached_property
    def input_params(self):
        """The input's quantization: int8, or int16 (zero point 0) for a 16x8 model."""
        from harness.quant.tflite import QuantParams
        tensor = self.metadata.input
        return QuantParams.for_dtype(float(tensor["scale"]), int(tensor["zero_point"]), tensor.get("dtype", "int8"))

    @cached_property
    def output_params(self):
        from harness.quant.tflite import QuantParams
        tensor = self.metadata.output
        return QuantParams.for_dtype(float(tensor["scale"]), int(tensor["zero_point"]), tensor.get("dtype", "int8"))

    @property
    def input_dtype(self) -> str:
        """"int8", or "int16" for a 16x8 model."""
        return self.input_params.dtype

    def fold(self, counts_per_g: float | None = None):
        """The integer preprocessing the device runs (SET_PREPROCESS) for this model's scaler."""
        from harness.quant.fold import fold_scaler
        return fold_scaler(self.scaler, self.input_params, self.counts_per_g if counts_per_g is None else counts_per_g)

    @cached_property
    def dataset_config(self):
        from harness.models.dataset import DatasetConfig
        if not self.synthetic:
            raise ConfigError(f"{self.name}: its data are recordings, not the synthetic container recipe")
        return DatasetConfig(**self.metadata.training["dataset"])

    @cached_property
    def float_reference(self):
        """The float model's TFLite Micro reference; None when the bundle has no float .tflite
        (the suite then reports which figures are missing)."""
        from harness.models.references import FloatReference
        return FloatReference(self.bundle.float_path) if self.bundle.float_path is not None else None

    @cached_property
    def int8_reference(self):
        from harness.models.references import HostInt8Reference
        return HostInt8Reference(self.bundle.int8_path)

    def scenarios(self, config) -> list:
        """The suite's labelled windows for this model (harness.suite.scenarios for the synthetic
        recipe, harness.suite.recorded for the team's recordings); made once per window counts
        and seed (they are a pure function of them)."""
        key = (config.windows, config.seed, tuple(config.sweep_peaks_g), config.sweep_windows)
        cache = self.__dict__.setdefault("_scenarios", {})
        if key not in cache:
            if self.synthetic:
                from harness.suite.scenarios import scenario_set
                cache[key] = scenario_set(self.dataset_config, config.windows, config.seed, self.counts_per_g,
                                          config.sweep_peaks_g, config.sweep_windows)
            else:
                from harness.suite.recorded import recorded_scenarios
                cache[key] = recorded_scenarios(self, config.windows, config.seed, config.sweep_peaks_g,
                                                config.sweep_windows)
        return cache[key]

    @cached_property
    def calibration_g(self) -> np.ndarray:
        """The calibration set the scaler and the INT8 input were fitted on: the team's calibration
        file, or the synthetic recipe's, rebuilt from the metadata's seed and checked against the
        summary recorded at training time."""
        if not self.synthetic:
            from harness.bundle.recordings import read_recording
            return read_recording(self.spec.data.calibration, self.spec.sensor).g.astype(np.float32)
        from harness.models import dataset
        windows = dataset.calibration_windows(self.dataset_config).astype(np.float32)
        recorded = self.metadata.calibration
        peak = round(float(np.abs(windows).max()), 6)
        if len(windows) != recorded.get("windows") or abs(peak - recorded.get("max_abs_g", peak)) > 1e-5:
            raise ConfigError(f"{self.name}: rebuilt calibration set ({len(windows)} windows, max |g| {peak}) "
                              f"differs from the metadata's {recorded}")
        return windows


def load_suite_model(name_or_path: str | Path, models_dir: str | Path = MODELS_DIR) -> SuiteModel:
    """A model by name (``minmax`` -> fixtures/models/minmax.json) or by its ``.json`` path."""
    from harness.bundle.load import load_bundle
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = Path(models_dir) / f"{name_or_path}.json"
    if not path.is_file():
        raise ConfigError(f"no model metadata {path}; models: {', '.join(available_models(models_dir))}")
    return SuiteModel(load_bundle(path))
