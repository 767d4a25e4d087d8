"""The main job as one library call: bundles on targets, judged, reported.

    from harness.suite.api import run_suite
    outcome = run_suite(["fixtures/models/minmax.json", "my/bundle.json"], target="qemu",
                        config=SuiteConfig(windows=64, sweep_windows=3), out_dir="reports/suite", jobs=2)
    outcome.passed, outcome.summaries(), outcome.checks, outcome.phases

Every bundle is loaded and its data read before any device work, so a bad bundle is a
BundleError naming the file and the field. Then the firmware is built (or reused) and ``jobs``
targets are started, each streaming its share of the models (round robin, one target per job:
QEMU instances, or several boards). A model's windows, seeds and device do not depend on which
job ran it, so ``jobs=2`` gives the results of ``jobs=1``, window for window. Each model is
analysed and checked (harness.suite.checks). The outputs (windows.parquet/.csv,
input_codes.npz, summary.json with the per-phase timing, junit.xml, report.html) are written even
when the run stops early: Ctrl-C, SIGTERM or a lost device keep every scenario measured. With an
``out_dir``, every window is also journaled as it arrives (``<out_dir>/journal.jsonl``,
harness.suite.journal): after a ``kill -9``, ``resume=True`` goes on from the journal and gives
the report of an uninterrupted run.
``hil run``, the pytest plugin and the acceptance module are reporters over this result.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigError, DeviceLostError
from harness.suite.checks import CheckResult, run_checks
from harness.suite.config import SuiteConfig
from harness.suite.journal import SuiteJournal, suite_fingerprinted
from harness.suite.suite_model import MODELS_DIR, SuiteModel, available_models, load_suite_model
from harness.suite.run import Progress
from harness.suite.remedy16 import attach_remedy_costs
from harness.suite.session import SuiteSession

# targets that are processes on this machine: one per core is what the machine allows
EMULATED = ("qemu", "renode")


@dataclass
class SuiteOutcome:
    session: SuiteSession
    checks: list[CheckResult] = field(default_factory=list)
    firmware: object = None                     # the FirmwareImage the targets ran
    paths: dict = field(default_factory=dict)   # name -> Path of what was written
    phases: dict = field(default_factory=dict)  # phase -> seconds (harness.suite.api.PHASES)
    jobs: int = 1

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


def default_jobs(target: str, models: int, place: str | None = None) -> int:
    """Emulators: one per core, at most one per model. labgrid: one per place named. Boards:
    one (pass ``jobs`` for a bench)."""
    if target in EMULATED:
        return max(1, min(models, os.cpu_count() or 1))
    if target == "labgrid":
        places = [p for p in (place or os.environ.get("LG_PLACE", "")).split(",") if p.strip()]
        return max(1, min(models, len(places)))
    return 1


class _Interrupted(KeyboardInterrupt):
    """Raised inside a job's thread when the run is interrupted (Ctrl-C, SIGTERM reach the main
    thread only): the job stops where it is, as a single-job run would, and its target is stopped
    by its own ``with``."""


class _Job(threading.Thread):
    """One target streaming its share of the models into its own session."""

    def __init__(self, setup, image, models, config, progress, target, stop: threading.Event, on_result=None,
                 journal: SuiteJournal | None = None):
        super().__init__(daemon=True)
        self.on_result = on_result
        self.journal = journal
        self.setup, self.image, self.models, self.config = setup, image, models, config
        self.session = SuiteSession(None, progress, target=target, journal=journal)
        self.session.models = {m.name: m for m in models}
        self.stop_event = stop
        self.error: BaseException | None = None
        self.abort_reason = ""
        self.boot_seconds = 0.0

    def run(self) -> None:
        self.serve()

    def serve(self) -> None:
        """Start the target, stream each model, stop the target; any error is kept in ``error``."""
        from harness.targets import running_device
        try:
            started = time.monotonic()
            with running_device(self.setup.target, self.image, **self.setup.options) as device:
                self.boot_seconds = time.monotonic() - started
                self.session.device = device
                for model in self.models:
                    if self.stop_event.is_set():
                        break
                    try:
                        result = self.session.result(model.name, self.config)
                        if self.on_result is not None:
                            self.on_result(result)
                    except DeviceLostError:
                        break   # the device is gone: this job's next models would not run either
        except BaseException as e:  # noqa: BLE001 - raised again by run_suite once the outputs are written
            self.error = e
            if self.abort_reason:
                for run in self.session.aborted.values():
                    run.aborted = f"{self.abort_reason} (after {run.windows} windows)"

    def interrupt(self, reason: str) -> None:
        self.abort_reason = reason
        self.stop_event.set()
        if self.is_alive() and self.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.ident), ctypes.py_object(_Interrupted))


def run_suite(models=(), *, target: str = "qemu", board: str | None = None, inventory_board: str | None = None,
              engine: str = "portable", config: SuiteConfig = SuiteConfig(), models_dir=None, out_dir=None, firmware=None,
              inventory=None, place: str | None = None, progress: Progress | None = None, title: str = "hil run",
              jobs: int | None = None, resume: bool = False, make_vars: dict[str, str] | None = None) -> SuiteOutcome:
    """Run the acceptance suite: see the module's docstring. ``firmware``: a FirmwareImage or an
    ELF path (a team's own application), or None to build the pipeline firmware for ``board``
    and ``engine``. ``board`` is the firmware board folder and ``inventory_board`` the boards.toml
    entries of an inventory target (``harness.boards.selection``). ``jobs``: targets at once
    (None: ``default_jobs``). ``make_vars``: the firmware build's (e.g. TFLM_DIR for ``engine``
    tflm). ``resume``: continue the run whose journal is in ``out_dir``
    (ConfigError when there is none, or when it is another run's: other bundles, config,
    firmware or target)."""
    from harness.boards.selection import target_setup
    from harness.firmware.build import build_firmware, image_from_elf

    began = time.monotonic()
    phases: dict[str, float] = {}
    if resume:
        if out_dir is None:
            raise ConfigError("resume needs the out_dir whose journal it continues")
        SuiteJournal.require(out_dir)
    suite_models = load_models(resolve_models(models, models_dir), models_dir, config)
    phases["load"] = time.monotonic() - began
    setup = target_setup(target, board, inventory_board=inventory_board, inventory=inventory, place=place)
    mark = time.monotonic()
    if isinstance(firmware, (str, Path)):
        firmware = image_from_elf(firmware, setup.firmware_board)
    image = firmware or build_firmware(board=setup.firmware_board, engine=engine, extra_make_vars=make_vars)
    phases["build"] = time.monotonic() - mark
    jobs = max(1, min(jobs or default_jobs(target, len(suite_models), place), len(suite_models)))
    journal = None
    if out_dir is not None:
        journal = SuiteJournal(out_dir, suite_fingerprinted(suite_models, config, image, target))
        if resume:
            journal.resume()
        else:
            journal.start()
    session = SuiteSession(None, progress, target=target)
    session.models = {m.name: m for m in suite_models}
    outcome = SuiteOutcome(session, firmware=image, jobs=jobs)
    stop = threading.Event()
    renderer = FigureRenderer() if out_dir is not None else None
    workers = [_Job(setup, image, suite_models[k::jobs], config, progress, target, stop,
                    renderer.submit if renderer else None, journal) for k in range(jobs)]
    mark = time.monotonic()
    try:
        if jobs == 1:
            workers[0].serve()    # in this thread: Ctrl-C and SIGTERM land in the stream itself
        else:
            for worker in workers:
                worker.start()
            for worker in workers:
                while worker.is_alive():
                    worker.join(timeout=0.2)   # a short wait keeps Ctrl-C and SIGTERM deliverable here
    except BaseException as e:
        reason = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        for worker in workers:
            worker.interrupt(reason)
        for worker in workers:
            if worker.is_alive():
                worker.join(timeout=60)
        raise
    finally:
        phases["devices"] = time.monotonic() - mark
        if journal is not None:
            journal.close()
        _merge(session, workers, suite_models)
        # the 16x8 remedy's cost from its sibling's run; the flash without int16 kernels from a build
        attach_remedy_costs(outcome.results, image, build_without=not session.aborted)
        for result in outcome.results:
            outcome.checks.extend(run_checks(result))
        runs = [r.run for r in outcome.results] + list(session.aborted.values())
        phases["boot"] = sum(w.boot_seconds for w in workers)
        phases["stream"] = sum(r.device_seconds for r in runs)
        phases["host_references"] = sum(r.host_seconds for r in runs)
        phases["analysis"] = sum(r.analysis_seconds for r in outcome.results)
        outcome.phases = phases
        if out_dir is not None:
            outcome.paths = write_outcome(outcome, out_dir, title, began, renderer)
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    return outcome


def _merge(session: SuiteSession, workers, order) -> None:
    """Every job's results and aborted runs into ``session``, in the models' order."""
    rank = {m.name: i for i, m in enumerate(order)}
    results = [item for w in workers for item in w.session.results.items()]
    aborted = [item for w in workers for item in w.session.aborted.items()]
    session.results.update(sorted(results, key=lambda item: rank[item[0][0]]))
    session.aborted.update(sorted(aborted, key=lambda item: rank[item[0][0]]))


class FigureRenderer:
    """The report's figures, drawn in one background thread while the devices stream the next
    models (matplotlib's pyplot is not for several threads at once: one renderer, one thread)."""

    def __init__(self):
        from concurrent.futures import ThreadPoolExecutor
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hil-figures")
        self.futures: dict[str, object] = {}
        self.seconds = 0.0

    def submit(self, result) -> None:
        self.futures[result.report.name] = self.pool.submit(self._draw, result)

    def _draw(self, result):
        from harness.suite.report import figures
        started = time.monotonic()
        try:
            return figures(result)
        finally:
            self.seconds += time.monotonic() - started

    def figures(self, result) -> list:
        future = self.futures.get(result.report.name)
        if future is None:
            self.submit(result)
            future = self.futures[result.report.name]
        return future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def write_outcome(outcome: SuiteOutcome, out_dir, title: str = "hil run", began: float | None = None,
                  renderer: FigureRenderer | None = None) -> dict:
    """report.html and junit.xml, then the tables and summary.json with the timing of every phase."""
    from harness.suite.report import write_html, write_junit
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    renderer = renderer or FigureRenderer()
    mark = time.monotonic()
    errors = [(entry["model"], entry["reasons"][0]) for entry in outcome.summaries() if entry["verdict"] == "ABORTED"]
    try:
        paths = {"junit": write_junit(out / "junit.xml", outcome.checks, errors, name=title),
                 "html": write_html(out / "report.html", outcome.summaries(), outcome.results, outcome.checks, title,
                                    figures=renderer.figures)}
    finally:
        renderer.close()
    outcome.phases["report_wait"] = time.monotonic() - mark    # what the figures still cost after the stream
    outcome.phases["figures"] = renderer.seconds               # drawing them, mostly during the stream
    extra = {"jobs": outcome.jobs}
    if began is not None:
        wall = time.monotonic() - began
        extra["phases_s"] = {k: round(v, 3) for k, v in outcome.phases.items()}
        extra["wall_s"] = round(wall, 3)
        # streaming per job: the share of the wall time the devices were busy streaming
        extra["streaming_share"] = round(outcome.phases.get("stream", 0.0) / outcome.jobs / wall, 3) if wall else None
    paths.update(outcome.session.write(out, extra))
    return paths
