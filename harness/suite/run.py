"""Stream the scenario set through a device and both host references.

    from harness.suite import SuiteConfig, load_suite_model, deploy, run_model
    model = load_suite_model("minmax")
    deploy(client, model, config)                 # LOAD_BEGIN/CHUNK/END + SET_PREPROCESS
    model_run = run_model(client, model, config)  # every scenario; .scenarios[i].device etc.

The host INT8 reference runs on the device's own input codes (the device's codes are first
checked against the host mirror of the fold by harness.device.infer_windows), so a difference in
outputs is the engine's, never the preprocessing's. The float reference runs on the scaler's
float output of the same sensor counts.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from harness.device import infer_windows, load_model, set_preprocess
from harness.suite.config import SuiteConfig
from harness.suite.models import SuiteModel
from harness.suite.scenarios import SCENARIOS, ScenarioWindows, scenario_set


@dataclass
class ScenarioRun:
    scenario: ScenarioWindows
    device_input_codes: np.ndarray   # (n, window_len, channels) int8, as the device fed its model
    device_outputs: np.ndarray       # (n, classes) int8
    cost: np.ndarray                 # (n,) instructions (QEMU) or cycles
    cost_unit: str
    float_scores: np.ndarray         # (n, classes) float32 probabilities
    host_outputs: np.ndarray         # (n, classes) int8: host INT8 reference on the device's codes
    device_seconds: float

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def windows_per_s(self) -> float:
        return len(self.scenario) / self.device_seconds if self.device_seconds > 0 else float("nan")


@dataclass
class ModelRun:
    model: SuiteModel
    config: SuiteConfig
    scenarios: list[ScenarioRun] = field(default_factory=list)
    target: str = ""

    def pooled(self, attribute: str) -> np.ndarray:
        return np.concatenate([getattr(s, attribute) for s in self.scenarios])

    @property
    def labels(self) -> np.ndarray:
        return np.concatenate([s.scenario.labels for s in self.scenarios])

    @property
    def g(self) -> np.ndarray:
        return np.concatenate([s.scenario.g for s in self.scenarios])

    @property
    def windows(self) -> int:
        return sum(len(s.scenario) for s in self.scenarios)

    @property
    def device_seconds(self) -> float:
        return sum(s.device_seconds for s in self.scenarios)


class Progress:
    """One line per model and scenario on ``stream`` (stderr by default): windows and windows/s."""

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled

    def line(self, text: str) -> None:
        if self.enabled:
            print(text, file=self.stream, flush=True)

    def scenario_done(self, model: str, run: ScenarioRun, done: int, total: int) -> None:
        self.line(f"hil run: {model:<11} {run.name:<12} {len(run.scenario):4d} windows "
                  f"{run.windows_per_s:6.1f} windows/s  [{done}/{total}]")


def deploy(client, model: SuiteModel, config: SuiteConfig):
    """Upload the model and configure its scaler's fold; returns the device's ModelInfo."""
    info = load_model(client, model.model_bytes)
    set_preprocess(client, model.fold(config.counts_per_g))
    return info


def run_scenario(client, model: SuiteModel, scenario: ScenarioWindows, info) -> ScenarioRun:
    started = time.monotonic()
    result = infer_windows(client, scenario.counts, model=info)   # checks codes vs the host mirror
    seconds = time.monotonic() - started
    n = len(scenario)
    codes = result.input_codes.reshape(n, info.window_len, info.input.channels)
    outputs = result.outputs.reshape(n, -1)
    scaled = model.scaler.transform(scenario.g).astype(np.float32)
    float_scores = model.float_reference.predict(scaled).scores
    host = model.int8_reference.predict_codes(codes).codes
    return ScenarioRun(scenario, codes, outputs, result.cost.astype(np.int64), result.cost_unit,
                       float_scores, host, seconds)


def run_model(client, model: SuiteModel, config: SuiteConfig, names=SCENARIOS,
              progress: Progress | None = None, target: str = "") -> ModelRun:
    """Deploy ``model`` and stream every scenario of ``names`` through it."""
    info = deploy(client, model, config)
    scenarios = scenario_set(model.dataset_config, config.windows, config.seed, config.counts_per_g,
                             config.sweep_peaks_g, config.sweep_windows, names)
    model_run = ModelRun(model, config, target=target)
    for index, scenario in enumerate(scenarios, 1):
        run = run_scenario(client, model, scenario, info)
        model_run.scenarios.append(run)
        if progress is not None:
            progress.scenario_done(model.name, run, index, len(scenarios))
    return model_run
