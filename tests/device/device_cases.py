"""Models, scenarios and folds shared by the device pipeline tests.

Models: every fixtures/models/*.tflite (with its <name>.json for the scaler), the window-shaped
classifiers of harness.device.synthetic_models and seeded random models of engine_support.random_models
(tests/support/). HIL_WINDOWS sets the windows per scenario and model (default 32; the issue's acceptance run
uses HIL_WINDOWS=500).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pytest

from harness.paths import MODELS_DIR

COUNTS_PER_G = 2048.0  # the default SensorModel: +-16 g, 16 bit
DEFAULT_WINDOWS = 32
# int8 inputs with 6, 3, 3 and 3 channels whose outputs vary over sensor windows; 105 has a batch
# of 2, 39 ends in DEQUANTIZE (float32 outputs)
RANDOM_SEEDS = (105, 107, 90, 39)


def windows_per_scenario() -> int:
    raw = os.environ.get("HIL_WINDOWS", str(DEFAULT_WINDOWS))
    try:
        value = int(raw)
    except ValueError:
        raise pytest.UsageError(f"HIL_WINDOWS={raw!r} is not an integer") from None
    if value < 1:
        raise pytest.UsageError(f"HIL_WINDOWS must be >= 1, got {value}")
    return value


@dataclass(frozen=True)
class ModelCase:
    name: str
    model: bytes
    scaler: str | None = None          # scaler kind fitted on the normal scenario
    scaler_export: dict | None = None  # from <name>.json (trained models)

    def __repr__(self) -> str:
        return self.name


def fixture_models() -> list[ModelCase]:
    cases = []
    for path in sorted(MODELS_DIR.glob("*.tflite")):
        if path.name.endswith(".float.tflite"):
            continue
        meta_path = path.with_suffix(".json")
        export = json.loads(meta_path.read_text()).get("scaler") if meta_path.is_file() else None
        cases.append(ModelCase(f"fixture:{path.stem}", path.read_bytes(), None if export else "robust", export))
    return cases


def portable_16x8_kernels() -> list[str]:
    """The portable engine's int16 (16x8) kernel sources (issue 17), if they exist yet."""
    from harness.paths import FIRMWARE_DIR
    return sorted(p.name for p in (FIRMWARE_DIR / "src" / "engine" / "portable").glob("*16x8*.c"))


def is_16x8(case: ModelCase) -> bool:
    """A 16x8 model: int16 input (TFLite TensorType 7), read from the flatbuffer."""
    from harness.models.inspect import read_model_info
    return read_model_info(case.model).input.dtype == "int16"


def skip_without_16x8_kernels(case: ModelCase) -> None:
    """16x8 models run on the device once the portable engine has its int16 kernels; until then
    the device refuses them at load and the host tflite_micro interpreter is their only reference."""
    if is_16x8(case) and not portable_16x8_kernels():
        pytest.skip(f"{case.name} is a 16x8 model and firmware/src/engine/portable/ has no *16x8*.c "
                    "kernels yet (issue 17, the engine's part): the device cannot run int16 activations")


def builtin_models() -> list[ModelCase]:
    from engine_support.random_models import random_model
    from harness.device.synthetic_models import window_classifier
    cases = [ModelCase("window3-robust", window_classifier(3, seed=3), "robust"),
             ModelCase("window6-two_stage", window_classifier(6, seed=6), "two_stage"),
             ModelCase("window3-log1p", window_classifier(3, seed=5), "log1p")]
    for seed, scaler in zip(RANDOM_SEEDS, ("two_stage", "minmax", "robust", "zscore")):
        cases.append(ModelCase(f"random{seed}-{scaler}", random_model(seed).model, scaler))
    return cases


ALL_MODELS = fixture_models() + builtin_models()


def scenario_counts(scenario: str, n_windows: int, window_len: int, seed: int = 0) -> np.ndarray:
    """n_windows raw int16 windows (n, window_len, 3) of a synthetic scenario, via the sensor model."""
    from harness.signals.field import cut_windows
    from harness.signals.synth import SensorModel, make_scenario
    rate_hz = 1600.0
    seconds = max(n_windows * window_len / rate_hz + 0.5, 1.0)
    trace = make_scenario(scenario, seconds=seconds, seed=seed, rate_hz=rate_hz)
    windows = cut_windows(trace, window_len=window_len)
    assert len(windows) >= n_windows, (scenario, len(windows), n_windows)
    return SensorModel().to_counts(windows.samples[:n_windows])


def fold_for(case: ModelCase, input_scale: float, input_zero_point: int, channels: int,
             input_dtype: str = "int8"):
    """The fold the device runs for this model: from its metadata, or a scaler fitted on normal data.
    ``input_dtype`` "int16" (a 16x8 model): the fold to int16 codes."""
    from harness.quant.fold import fold_from_export, fold_scaler
    from harness.quant.scalers import from_export, make_scaler
    from harness.quant.tflite import QuantParams
    params = QuantParams.for_dtype(input_scale, input_zero_point, input_dtype)
    if case.scaler_export is not None:
        if "fixed_point" in case.scaler_export:
            return fold_from_export(case.scaler_export["fixed_point"])
        scaler = from_export(case.scaler_export)
    else:
        from harness.signals.field import cut_windows
        from harness.signals.synth import make_scenario
        calibration = cut_windows(make_scenario("normal", seconds=4.0, seed=99), window_len=64).samples
        scaler = make_scaler(case.scaler).fit(calibration)
    fold = fold_scaler(scaler, params, COUNTS_PER_G)
    assert len(fold.source_axis) == channels, f"{case.name}: scaler gives {len(fold.source_axis)} channels, model wants {channels}"
    return fold
