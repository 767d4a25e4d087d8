"""One suite session: a device, a config, and each model's run and report computed once.

The pytest plugin keeps one in ``config.stash``; a script can use it directly::

    with running_device("qemu", build_firmware(engine="portable")) as device:
        session = SuiteSession(device.client)
        report = session.result("minmax", SuiteConfig(windows=24)).report
    session.write(out_dir)   # windows.parquet/.csv, input_codes.npz, summary.json
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.suite.analysis import ModelReport, analyze
from harness.suite.config import SuiteConfig
from harness.suite.models import MODELS_DIR, SuiteModel, load_suite_model
from harness.suite.run import ModelRun, Progress, run_model


@dataclass
class SuiteResult:
    run: ModelRun
    report: ModelReport


@dataclass
class SuiteSession:
    client: object
    progress: Progress | None = None
    target: str = ""
    results: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    models_dir: str | None = None  # None: fixtures/models

    def model(self, name: str) -> SuiteModel:
        if name not in self.models:
            self.models[name] = load_suite_model(name, self.models_dir or MODELS_DIR)
        return self.models[name]

    def result(self, name: str, config: SuiteConfig = SuiteConfig()) -> SuiteResult:
        """The run and report of model ``name`` under ``config``, computed on first use."""
        key = (name, config)
        if key not in self.results:
            run = run_model(self.client, self.model(name), config, progress=self.progress, target=self.target)
            self.results[key] = SuiteResult(run, analyze(run))
        return self.results[key]

    def write(self, out_dir, extra: dict | None = None) -> dict:
        """Per-window table, input codes and summary of every model run so far."""
        from harness.suite.outputs import write_summary, write_windows
        if not self.results:
            return {}
        results = list(self.results.values())
        paths = write_windows([r.run for r in results], out_dir)
        timing = {r.run.model.name: {"windows": r.run.windows, "device_seconds": round(r.run.device_seconds, 3),
                                     "windows_per_s": round(r.run.windows / r.run.device_seconds, 2)
                                     if r.run.device_seconds else None} for r in results}
        configs = list(dict.fromkeys(r.run.config for r in results))
        paths["summary"] = write_summary([r.report.summary() for r in results],
                                         configs[0].to_dict() if len(configs) == 1 else [c.to_dict() for c in configs],
                                         out_dir, {"timing": timing, "target": self.target, **(extra or {})})
        return {k: Path(v) for k, v in paths.items()}
