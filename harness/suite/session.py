"""One suite session: a device, a config, and each model's run and report computed once.

The pytest plugin keeps one in ``config.stash``; a script can use it directly::

    with running_device("qemu", build_firmware(engine="portable")) as device:
        session = SuiteSession(device)
        report = session.result("minmax", SuiteConfig(windows=24)).report
    session.write(out_dir)   # windows.parquet/.csv, input_codes.npz, summary.json

A run that aborts (the device is lost, Ctrl-C) keeps what it measured: ``aborted`` holds its
partial ModelRun and ``write`` puts its windows in the tables and an ABORTED entry in the summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.quant.verdict import OK
from harness.suite.analysis import DEVICE_FAULT, ModelReport, analyze
from harness.suite.config import SuiteConfig
from harness.suite.layers import locate_loss
from harness.suite.suite_model import MODELS_DIR, SuiteModel, load_suite_model
from harness.suite.run import ModelRun, Progress, run_model

ABORTED = "ABORTED"


@dataclass
class SuiteResult:
    run: ModelRun
    report: ModelReport
    analysis_seconds: float = 0.0


@dataclass
class SuiteSession:
    device: object                 # a RunningDevice (harness.targets): reset when it stops answering
    progress: Progress | None = None
    target: str = ""
    results: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    models_dir: str | None = None  # None: fixtures/models
    aborted: dict = field(default_factory=dict)   # (name, config) -> partial ModelRun
    journal: object = None         # harness.suite.journal.SuiteJournal: every window journaled as it arrives

    def model(self, name: str) -> SuiteModel:
        if name not in self.models:
            self.models[name] = load_suite_model(name, self.models_dir or MODELS_DIR)
        return self.models[name]

    def result(self, name: str, config: SuiteConfig = SuiteConfig()) -> SuiteResult:
        """The run and report of model ``name`` under ``config``, computed on first use."""
        key = (name, config)
        if key not in self.results:
            model = self.model(name)
            run = ModelRun(model, config, target=self.target)
            try:
                run_model(self.device, model, config, progress=self.progress, target=self.target, into=run,
                          journal=self.journal)
            except BaseException:
                self.aborted[key] = run
                raise
            self.aborted.pop(key, None)
            started = time.monotonic()
            report = analyze(run)
            report.layers, reason = locate_loss(self.device, run, report)
            if reason:
                report.reasons.append(reason)
            self.results[key] = SuiteResult(run, report, time.monotonic() - started)
            from harness.suite.remedy16 import attach_remedy_costs
            attach_remedy_costs(self.results.values())   # a 16x8 sibling run now or earlier gives its cost
        return self.results[key]

    def summaries(self) -> list[dict]:
        """Every finished model's summary, then an ABORTED entry per aborted run."""
        return [r.report.summary() for r in self.results.values()] + \
            [aborted_summary(run) for run in self.aborted.values()]

    def write(self, out_dir, extra: dict | None = None) -> dict:
        """Per-window table, input codes and summary of every model run so far, aborted ones too."""
        from harness.suite.outputs import write_summary, write_windows
        runs = [r.run for r in self.results.values()] + [r for r in self.aborted.values() if r.windows]
        if not runs and not self.aborted:
            return {}
        paths = write_windows(runs, out_dir) if runs else {}
        timing = {r.model.name: {"windows": r.windows, "device_seconds": round(r.device_seconds, 3),
                                 "windows_per_s": round(r.windows / r.device_seconds, 2)
                                 if r.device_seconds else None} for r in runs}
        configs = list(dict.fromkeys([r.config for r in runs] + [r.config for r in self.aborted.values()]))
        paths["summary"] = write_summary(self.summaries(),
                                         configs[0].to_dict() if len(configs) == 1 else [c.to_dict() for c in configs],
                                         out_dir, {"timing": timing, "target": self.target, **(extra or {})})
        return {k: Path(v) for k, v in paths.items()}


def aborted_summary(run: ModelRun) -> dict:
    """The summary entry of a run that stopped early: verdict ABORTED, why, the windows and faults
    it measured. Its figures are not a verdict (a partial scenario set), so none are given."""
    model = run.model
    events = [{"scenario": name, **event.to_dict()} for name, event in run.fault_events]
    reasons = [f"run aborted: {run.aborted or 'unknown reason'}"]
    return {"model": model.name, "scaler": model.scaler_label, "method": model.method, "verdict": ABORTED,
            "reasons": reasons, "windows": run.windows, "scenarios_done": [s.name for s in run.scenarios],
            "recall_float": {}, "recall_device": {}, "band_codes": None, "band_bits": None, "exact_share": None,
            "device_status": DEVICE_FAULT if run.device_lost or run.device_faults else OK,
            "device_faults": run.device_faults,
            "device_recoveries": len(events) - sum(1 for e in events if not e["recovered"]),
            "device_reasons": reasons, "fault_events": events, "aborted": run.aborted}
