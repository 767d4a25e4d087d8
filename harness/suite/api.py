"""The main job as one library call: bundles on a target, judged, reported.

    from harness.suite.api import run_suite
    outcome = run_suite(["fixtures/models/minmax.json", "my/bundle.json"], target="qemu",
                        config=SuiteConfig(windows=64, sweep_windows=3), out_dir="reports/suite")
    outcome.passed, outcome.summaries(), outcome.checks

Every bundle is loaded and its data read before any device work, so a bad bundle is a
BundleError naming the file and the field. Then the firmware is built (or reused), the target
started once, and each model streamed, analysed and checked (harness.suite.checks). The outputs
(windows.parquet/.csv, input_codes.npz, summary.json, junit.xml, report.html) are written even when
the run stops early: Ctrl-C, SIGTERM or a lost device keep every scenario measured.
``hil run``, the pytest plugin and the acceptance module are reporters over this result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import DeviceLostError
from harness.suite.checks import CheckResult, run_checks
from harness.suite.config import SuiteConfig
from harness.suite.models import MODELS_DIR, SuiteModel, available_models, load_suite_model
from harness.suite.run import Progress
from harness.suite.session import SuiteSession


@dataclass
class SuiteOutcome:
    session: SuiteSession
    checks: list[CheckResult] = field(default_factory=list)
    firmware: object = None                     # the FirmwareImage the target ran
    paths: dict = field(default_factory=dict)   # name -> Path of what was written

    @property
    def results(self) -> list:
        return list(self.session.results.values())

    def summaries(self) -> list[dict]:
        return self.session.summaries()

    @property
    def aborted(self) -> bool:
        return bool(self.session.aborted)

    @property
    def passed(self) -> bool:
        """Every check of every model passed and no model run was cut short."""
        return not self.aborted and all(c.passed for c in self.checks)


def resolve_models(models=(), models_dir=None) -> list[str | Path]:
    """Bundle paths and model names (of ``models_dir``, fixtures/models by default); none: all of it."""
    names = [m for m in models if str(m).strip()]
    return names or available_models(models_dir or MODELS_DIR)


def load_models(models, models_dir=None, config: SuiteConfig = SuiteConfig()) -> list[SuiteModel]:
    """Every model checked before any device work: the bundle, its calibration data and the
    scenario windows (a bad label row or a missing column is reported now, not mid-run)."""
    loaded = []
    for model in models:
        suite_model = load_suite_model(model, models_dir or MODELS_DIR)
        suite_model.scenarios(config)
        suite_model.calibration_g
        loaded.append(suite_model)
    return loaded


def run_suite(models=(), *, target: str = "qemu", board: str = "netduinoplus2", engine: str = "portable",
              config: SuiteConfig = SuiteConfig(), models_dir=None, out_dir=None, firmware=None,
              inventory=None, progress: Progress | None = None, title: str = "hil run") -> SuiteOutcome:
    """Run the acceptance suite: see the module's docstring. ``firmware``: a FirmwareImage or an
    ELF path (a team's own application), or None to build the pipeline firmware for ``board``
    and ``engine``."""
    from harness.boards.selection import target_setup
    from harness.firmware.build import build_firmware
    from harness.targets import running_device

    suite_models = load_models(resolve_models(models, models_dir), models_dir, config)
    setup = target_setup(target, board, inventory=inventory)
    if isinstance(firmware, (str, Path)):
        from harness.firmware.build import image_from_elf
        firmware = image_from_elf(firmware, setup.firmware_board)
    image = firmware or build_firmware(board=setup.firmware_board, engine=engine)
    session = SuiteSession(None, progress, target=target)
    session.models = {m.name: m for m in suite_models}
    outcome = SuiteOutcome(session, firmware=image)
    try:
        with running_device(setup.target, image, **setup.options) as device:
            session.device = device
            for model in suite_models:
                try:
                    result = session.result(model.name, config)
                except DeviceLostError:
                    break   # the device is gone: the next models would not run either
                outcome.checks.extend(run_checks(result))
    finally:
        if out_dir is not None:
            outcome.paths = write_outcome(outcome, out_dir, title)
    return outcome


def write_outcome(outcome: SuiteOutcome, out_dir, title: str = "hil run") -> dict:
    from harness.suite.report import write_html, write_junit
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = outcome.session.write(out)
    errors = [(entry["model"], entry["reasons"][0]) for entry in outcome.summaries() if entry["verdict"] == "ABORTED"]
    paths["junit"] = write_junit(out / "junit.xml", outcome.checks, errors, name=title)
    paths["html"] = write_html(out / "report.html", outcome.summaries(), outcome.results, outcome.checks, title)
    return paths
