"""A model under test: its files, scaler, fold, the two host references and its calibration set."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from harness.errors import ConfigError
from harness.paths import MODELS_DIR


def available_models(models_dir: str | Path = MODELS_DIR) -> list[str]:
    from harness.models.metadata import list_bundles
    return [p.stem for p in list_bundles(models_dir)]


@dataclass
class SuiteModel:
    """``load_suite_model(name)``: a checked bundle (harness.models.metadata.load_bundle) and
    everything the suite derives from it, each computed once."""

    bundle: object  # harness.models.metadata.ModelBundle

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
    def scaler_label(self) -> str:
        params = self.metadata.training.get("scaler_params") or {}
        args = ",".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in params.items())
        return self.metadata.training["scaler"] + (f":{args}" if args else "")

    @property
    def method(self) -> str:
        return str(self.metadata.training.get("method", "")).upper()

    @property
    def model_bytes(self) -> bytes:
        return Path(self.bundle.int8_path).read_bytes()

    @cached_property
    def input_params(self):
        from harness.quant.tflite import QuantParams
        return QuantParams(float(self.metadata.input["scale"]), int(self.metadata.input["zero_point"]))

    @cached_property
    def output_params(self):
        from harness.quant.tflite import QuantParams
        return QuantParams(float(self.metadata.output["scale"]), int(self.metadata.output["zero_point"]))

    def fold(self, counts_per_g: float):
        """The integer preprocessing the device runs (SET_PREPROCESS) for this model's scaler."""
        from harness.quant.fold import fold_scaler
        return fold_scaler(self.scaler, self.input_params, counts_per_g)

    @cached_property
    def dataset_config(self):
        from harness.models.dataset import DatasetConfig
        return DatasetConfig(**self.metadata.training["dataset"])

    @cached_property
    def float_reference(self):
        from harness.models.references import FloatReference
        return FloatReference(self.bundle.float_path)

    @cached_property
    def int8_reference(self):
        from harness.models.references import HostInt8Reference
        return HostInt8Reference(self.bundle.int8_path)

    @cached_property
    def calibration_g(self) -> np.ndarray:
        """The calibration set the scaler and the INT8 input were fitted on, rebuilt from the
        metadata's seed and checked against the summary recorded at training time."""
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
    from harness.models.metadata import load_bundle
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = Path(models_dir) / f"{name_or_path}.json"
    if not path.is_file():
        raise ConfigError(f"no model metadata {path}; models: {', '.join(available_models(models_dir))}")
    return SuiteModel(load_bundle(path))
