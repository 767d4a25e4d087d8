"""Stream the scenario set through a device and both host references.

    from harness.suite import SuiteConfig, load_suite_model, deployed_pipeline, run_model
    model = load_suite_model("minmax")
    model_run = run_model(device, model, config)  # device: a RunningDevice; every scenario
    model_run.scenarios[i].device_outputs, .device_fault, .fault_events

The host INT8 reference runs on the device's own input codes (the device's codes are first
checked against the host mirror of the fold), so a difference in outputs is the engine's, never
the preprocessing's. The float reference runs on the scaler's float output of the same counts.

The model and its fold go to the device as one DeployedPipeline (``deployed_pipeline``; its
requests bounded by the config's window timeout). A device that stops answering is reset through
its target, the pipeline is deployed again and the window retried once; a second failure records
the window as a DEVICE FAULT (harness.device.recovery). Those windows keep their row
(``device_fault``) but no metric uses them. When the run aborts (the device is lost, Ctrl-C),
``into`` keeps every scenario measured so far and ``aborted`` says why.

With a journal (harness.suite.journal; ``hil run`` keeps one in its --out), every window's results
and every fault event are journaled as they arrive; on a resumed run a scenario the journal holds
whole is rebuilt from it without the device, and one cut mid-way streams from its next window.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np

from harness.device.deployed import DeployedPipeline
from harness.device.pipeline import check_mirror
from harness.device.stream import InferenceResult
from harness.device.recovery import DeviceRecovery, RecoveredRun, infer_windows_recovering, parse_injection
from harness.errors import ConfigError, DeviceLostError
from harness.link.protocol import Capability
from harness.suite.config import SuiteConfig
from harness.suite.suite_model import SuiteModel
from harness.suite.scenarios import ScenarioWindows


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
    device_fault: np.ndarray | None = None   # (n,) bool: DEVICE FAULT windows (no figures)
    fault_events: list = field(default_factory=list)   # FaultEvent per window the device failed
    # the bundle's declared preprocessing of the same windows, when the firmware runs its own
    # (no SET_PREPROCESS: a team's application); None for the harness's fold
    declared_input_codes: np.ndarray | None = None
    host_seconds: float = 0.0        # the host references on these windows (float, INT8, declared codes)

    def __post_init__(self):
        if self.device_fault is None:
            self.device_fault = np.zeros(len(self.scenario), dtype=bool)

    @property
    def name(self) -> str:
        return self.scenario.name

    def measured(self) -> "ScenarioRun":
        """The windows the device answered (every one unless some are DEVICE FAULT)."""
        keep = ~self.device_fault
        if keep.all():
            return self
        return ScenarioRun(self.scenario.select(keep), self.device_input_codes[keep], self.device_outputs[keep],
                           self.cost[keep], self.cost_unit, self.float_scores[keep], self.host_outputs[keep],
                           self.device_seconds, None, list(self.fault_events),
                           None if self.declared_input_codes is None else self.declared_input_codes[keep])

    @property
    def windows_per_s(self) -> float:
        return len(self.scenario) / self.device_seconds if self.device_seconds > 0 else float("nan")


@dataclass
class ModelRun:
    model: SuiteModel
    config: SuiteConfig
    scenarios: list[ScenarioRun] = field(default_factory=list)
    target: str = ""
    aborted: str = ""   # why the run stopped before its last scenario ('' when it finished)
    device_lost: bool = False   # it stopped because the device could not be brought back
    device_model: object = None  # the device's ModelInfo (MODEL_INFO: arena_used ...) once deployed

    def measured(self) -> "ModelRun":
        """This run without its DEVICE FAULT windows: what every figure is computed on."""
        return ModelRun(self.model, self.config, [s.measured() for s in self.scenarios], self.target, self.aborted,
                        self.device_lost, self.device_model)

    def scored(self) -> "ModelRun":
        """This run's scenarios whose labels are ground truth (not an injected outlier sweep)."""
        return ModelRun(self.model, self.config, [s for s in self.scenarios if s.scenario.scored], self.target,
                        self.aborted, self.device_lost, self.device_model)

    @property
    def fault_events(self) -> list[tuple[str, object]]:
        """(scenario, FaultEvent) for every window the device failed, recovered or not."""
        return [(s.name, e) for s in self.scenarios for e in s.fault_events]

    @property
    def device_faults(self) -> int:
        """Windows recorded as DEVICE FAULT."""
        return int(sum(s.device_fault.sum() for s in self.scenarios))

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

    @property
    def host_seconds(self) -> float:
        return sum(s.host_seconds for s in self.scenarios)


class Progress:
    """One line per model and scenario on ``stream`` (stderr by default): windows and windows/s."""

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled

    def line(self, text: str) -> None:
        if self.enabled:
            print(text, file=self.stream, flush=True)

    def scenario_done(self, model: str, run: ScenarioRun, done: int, total: int, journaled: int = 0) -> None:
        faults = int(run.device_fault.sum())
        recovered = len(run.fault_events) - faults
        notes = (f"  {recovered} recovered after a reset" if recovered else "") + \
            (f"  {faults} DEVICE FAULT" if faults else "") + \
            (f"  ({journaled} from the journal)" if journaled else "")
        self.line(f"hil run: {model:<11} {run.name:<12} {len(run.scenario):4d} windows "
                  f"{run.windows_per_s:6.1f} windows/s  [{done}/{total}]{notes}")


def runs_own_preprocessing(client) -> bool:
    """A firmware without SET_PREPROCESS (INFO CAPABILITIES) preprocesses windows its own way."""
    info = client.boot_info or client.info()
    return not info.serves(Capability.SET_PREPROCESS)


def deployed_pipeline(model: SuiteModel, config: SuiteConfig) -> DeployedPipeline:
    """The model and its scaler's fold as the device gets them, every request of the deploy bounded
    by the window timeout. The harness's firmware takes both; a team's firmware (INFO CAPABILITIES)
    without model upload runs the model linked into it, which must be the bundle's (MODEL_CRC32);
    without SET_PREPROCESS it runs its own preprocessing, judged later against the bundle's
    declared scaler (harness.suite.preprocessing)."""
    return DeployedPipeline(model.model_bytes, model.fold,
                            source=f"the bundle {model.bundle.json_path} names {model.bundle.int8_path.name}",
                            timeout_s=config.window_timeout_s)


def _scenario_run(model: SuiteModel, scenario: ScenarioWindows, info, recovered, seconds: float,
                  own_preprocessing: bool = False) -> ScenarioRun:
    from harness.suite.preprocessing import declared_codes
    started = time.monotonic()
    n = len(scenario)
    result = recovered.result
    codes = result.input_codes.reshape((n, info.window_len, info.input.channels) if info is not None
                                       else (n, model.window_len, -1))
    outputs = result.outputs.reshape(n, -1)
    if model.float_reference is None:
        float_scores = np.full(outputs.shape, np.nan, dtype=np.float32)   # no float figures (analysis says so)
    else:
        float_scores = model.float_reference.predict(model.scaler.transform(scenario.g).astype(np.float32)).scores
    host = model.int8_reference.predict_codes(codes).codes
    declared = declared_codes(model, scenario.g).reshape(codes.shape) if own_preprocessing else None
    return ScenarioRun(scenario, codes, outputs, result.cost.astype(np.int64), result.cost_unit,
                       float_scores, host, seconds, recovered.faulted, recovered.events, declared,
                       time.monotonic() - started)


def run_scenario(recovery: DeviceRecovery, model: SuiteModel, scenario: ScenarioWindows, info,
                 config: SuiteConfig, journal=None) -> ScenarioRun:
    """One scenario through the device (recovering from device faults); a lost device raises
    DeviceLostError, whose ``scenario_run`` is the ScenarioRun of the windows measured before it. ``journal``: a
    SuiteJournal that gets every window as it arrives and whose windows of this scenario, from a
    run it resumes, are not streamed again."""
    inject = parse_injection(config.inject_fault)
    if inject is not None and inject.scenario not in ("", scenario.name):
        inject = None
    if inject is not None and inject.scenario and inject.window >= len(scenario):
        raise ConfigError(f"fault injection '{config.inject_fault}': scenario {scenario.name} has "
                          f"{len(scenario)} windows (0..{len(scenario) - 1})")
    own = runs_own_preprocessing(recovery.client)
    record = journal.record(model.name, scenario.name) if journal is not None else None
    first = record.measured_prefix() if record is not None else 0
    first = min(first, len(scenario))
    prefix = _journaled_run(record, first, model, info)
    if first and not own:   # the killed run checked none of them yet (the check runs at a scenario's end)
        measured = np.flatnonzero(~prefix.faulted)
        result = prefix.result
        check_mirror(InferenceResult(result.input_codes[measured], result.outputs[measured], result.cost[measured]),
                     scenario.counts[measured], model.fold(), window_numbers=measured)
    told = {}
    if journal is not None:
        told = {"on_windows": lambda k, result: journal.windows(model.name, scenario.name, first + k, result),
                "on_fault": lambda event: journal.fault(model.name, scenario.name,
                                                        replace(event, window=first + event.window))}
    if inject is not None:
        inject = replace(inject, window=inject.window - first) if inject.window >= first else None
    started = time.monotonic()
    try:
        rest = infer_windows_recovering(recovery, scenario.counts[first:], model=info, inject=inject,
                                        timeout_s=config.window_timeout_s, **told) if first < len(scenario) \
            else _journaled_run(None, 0, model, info)
    except DeviceLostError as e:
        joined = _joined(prefix, e.run, first)
        done = len(joined.faulted)
        measured = _scenario_run(model, scenario.select(slice(0, done)), info, joined,
                                 time.monotonic() - started, own)
        raise DeviceLostError(str(e), first + e.failed_index, joined, e.error, scenario_run=measured) from e
    seconds = time.monotonic() - started
    if journal is not None:
        journal.scenario_done(model.name, scenario.name, len(scenario), seconds)
    return _scenario_run(model, scenario, info, _joined(prefix, rest, first), seconds, own)


def rebuild_scenario(model: SuiteModel, scenario: ScenarioWindows, record, own_preprocessing: bool = False) -> ScenarioRun:
    """A scenario a journal holds whole (its ``scenario`` line written), without the device."""
    run = _journaled_run(record, len(scenario), model, None)
    return _scenario_run(model, scenario, None, run, float(record.done.get("device_seconds") or 0.0),
                         own_preprocessing)


def _journaled_run(record, upto: int, model: SuiteModel, info) -> RecoveredRun:
    """Windows 0..upto-1 of a journal's ScenarioRecord as a RecoveredRun (zeros where faulted),
    each window's tensors in the shape and dtype the device gave them."""
    windows = record.windows if record is not None else {}
    sample = next(iter(windows.values()), None)
    if sample is not None:
        code_shape, code_dtype, out_shape, out_dtype = sample[0].shape, sample[0].dtype, sample[1].shape, sample[1].dtype
    elif info is not None:
        code_shape, code_dtype, out_shape, out_dtype = info.input.shape, info.input.dtype, info.output.shape, info.output.dtype
    else:   # every window a DEVICE FAULT: zeros in the model's shapes (bundle metadata), never scored
        code_shape, code_dtype = tuple(model.metadata.input["shape"][1:]), np.dtype(model.metadata.input["dtype"])
        out_shape, out_dtype = (len(model.classes),), np.dtype(model.metadata.output["dtype"])
    codes = np.zeros((upto,) + tuple(code_shape), dtype=code_dtype)
    outputs = np.zeros((upto,) + tuple(out_shape), dtype=out_dtype)
    cost = np.zeros(upto, dtype=np.uint32)
    for k in range(upto):
        if k in windows:
            codes[k], outputs[k], cost[k] = windows[k]
    events = [e for e in (record.events if record is not None else []) if e.window < upto]
    faulted = np.zeros(upto, dtype=bool)
    faulted[[e.window for e in events if not e.recovered]] = True
    return RecoveredRun(InferenceResult(codes, outputs, cost, record.cost_unit if record is not None else ""),
                        faulted, events)


def _joined(prefix: RecoveredRun, rest: RecoveredRun, first: int) -> RecoveredRun:
    """The journal's windows 0..first-1 followed by the ones streamed from ``first``."""
    if not first:
        return rest
    if not len(rest.faulted):
        return prefix
    p, r = prefix.result, rest.result
    result = InferenceResult(np.concatenate([p.input_codes, r.input_codes]), np.concatenate([p.outputs, r.outputs]),
                             np.concatenate([p.cost, r.cost]), r.cost_unit or p.cost_unit)
    events = list(prefix.events) + [replace(e, window=first + e.window) for e in rest.events]
    return RecoveredRun(result, np.concatenate([prefix.faulted, rest.faulted]), events)


def run_model(device, model: SuiteModel, config: SuiteConfig, names=None,
              progress: Progress | None = None, target: str = "", into: ModelRun | None = None,
              journal=None) -> ModelRun:
    """Deploy ``model`` on ``device`` (a RunningDevice) and stream every scenario of ``names``.

    ``into``: the ModelRun to fill (the caller keeps it when the run aborts: every scenario
    measured so far is in it, with ``aborted`` set, and the exception propagates).
    ``journal``: a SuiteJournal (None: nothing journaled; SuiteSession passes its own); the scenarios it holds whole are rebuilt from it, and the model is deployed only when a
    scenario still needs the device."""
    model_run = into if into is not None else ModelRun(model, config, target=target)
    recovery = DeviceRecovery(device, deployed_pipeline(model, config))
    scenarios = [s for s in model.scenarios(config) if names is None or s.name in names]
    info = None
    try:
        for index, scenario in enumerate(scenarios, 1):
            record = journal.records.get((model.name, scenario.name)) if journal is not None else None
            journaled = min(record.measured_prefix(), len(scenario)) if record is not None else 0
            if record is not None and record.done is not None and record.done.get("windows") == len(scenario):
                run = rebuild_scenario(model, scenario, record, runs_own_preprocessing(device.client))
            else:
                if info is None:
                    info = recovery.ensure_deployed()
                try:
                    run = run_scenario(recovery, model, scenario, info, config, journal)
                except DeviceLostError as e:
                    if e.scenario_run is not None and len(e.scenario_run.scenario):
                        model_run.scenarios.append(e.scenario_run)
                    raise
                info = recovery.model_info or info
                model_run.device_model = info
            model_run.scenarios.append(run)
            if progress is not None:
                progress.scenario_done(model.name, run, index, len(scenarios), journaled)
    except BaseException as e:
        model_run.device_lost = isinstance(e, DeviceLostError)
        model_run.aborted = (f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) + \
            f" (after {model_run.windows} windows)"
        raise
    return model_run
