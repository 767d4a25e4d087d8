"""hil run: the main job. Build the pipeline firmware, boot the target, stream every model of
fixtures/models through the scenario set (normal, pre-failure, impact, mixed, a 1-16 g shock
sweep), compare with the float and host-INT8 references, judge collapse on the device's own input
codes, and print the verdict table.

Runs the acceptance suite (harness/suite/acceptance/test_acceptance.py) with pytest.main and writes
into --out: report.html (pytest-html, self-contained, figures as base64 PNG), junit.xml,
windows.parquet + windows.csv (one row per window), input_codes.npz, summary.json.
Exit status: 0 when every expectation holds (min-max COLLAPSED, the recovering models OK) and the
device answered every window, 1 when one fails (a model verdict, or a DEVICE FAULT: a window the
device failed twice, reset in between), 2 on a harness error. A run that aborts still writes what
it measured (an ABORTED entry in summary.json, its windows in the tables).
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("run", help="the main job: the acceptance suite on a target, verdict table, report",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="qemu", help="target backend (default: %(default)s)")
    parser.add_argument("--board", default="netduinoplus2",
                        help="firmware board folder; with --target pyocd, inventory board name(s) (default: %(default)s)")
    parser.add_argument("--inventory", default=None, help="board inventory for --target pyocd")
    parser.add_argument("--engine", default="portable", help="inference engine of the firmware (default: %(default)s)")
    parser.add_argument("--models", default="", help="comma-separated models of fixtures/models (default: all)")
    parser.add_argument("--windows", type=int, default=64, help="windows per scenario (default: %(default)s)")
    parser.add_argument("--sweep-windows", type=int, default=3,
                        help="windows per shock amplitude, 1..16 g (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the scenario windows (default: the suite's)")
    parser.add_argument("--out", default="reports/suite", help="output folder (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no per-scenario progress lines on stderr")
    parser.add_argument("--window-timeout", type=float, default=None,
                        help="seconds a window may take before the device counts as hung: reset, retry once, "
                             "then DEVICE FAULT (default: 10)")
    parser.add_argument("--inject-fault", default="",
                        help="test the device-fault path on this bench: MODE@[SCENARIO:]WINDOW[:persistent], "
                             "MODE hang or crash (test-only FAULT_ARM request); without SCENARIO in every scenario; "
                             "e.g. hang@mixed:5")
    parser.add_argument("--models-dir", default=None,
                        help="models folder instead of fixtures/models (same <name>.json bundles)")
    nightly = parser.add_argument_group("nightly (harness.nightly)")
    nightly.add_argument("--nightly", action="store_true",
                         help="append the run to --history, compare with the previous run and --baseline, exit 1 on a regression")
    nightly.add_argument("--history", default="reports/history.parquet", help="history file (default: %(default)s)")
    nightly.add_argument("--baseline", default=None, help="pinned baseline, JSON or Parquet (hil history --pin)")
    nightly.add_argument("--recall-drop", type=float, default=0.05,
                         help="regression: device recall of a class falls by more than this (default: %(default)s)")
    nightly.add_argument("--cost-increase", type=float, default=0.05,
                         help="regression: median cost per inference rises by more than this share (default: %(default)s)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments after --, e.g. -- -k verdict")
    parser.set_defaults(func=run)


def pytest_arguments(args: argparse.Namespace, out_dir, progress_fd: int | None) -> list[str]:
    from harness.suite.acceptance import MODULE
    argv = [str(MODULE), "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-o", "render_collapsed=", "--rootdir", str(MODULE.parent),
            f"--html={out_dir / 'report.html'}", "--self-contained-html", f"--junitxml={out_dir / 'junit.xml'}",
            f"--hil-target={args.target}", f"--hil-board={args.board}", f"--hil-engine={args.engine}",
            f"--hil-windows={args.windows}", f"--hil-sweep-windows={args.sweep_windows}",
            f"--hil-suite-out={out_dir}"]
    if args.models:
        argv.append(f"--hil-models={args.models}")
    if args.models_dir:
        argv.append(f"--hil-models-dir={Path(args.models_dir).resolve()}")
    if args.seed is not None:
        argv.append(f"--hil-seed={args.seed}")
    if args.window_timeout is not None:
        argv.append(f"--hil-window-timeout={args.window_timeout}")
    if args.inject_fault:
        argv.append(f"--hil-inject-fault={args.inject_fault}")
    if args.inventory:
        argv.append(f"--hil-inventory={args.inventory}")
    if progress_fd is not None:
        argv.append(f"--hil-progress=fd:{progress_fd}")
    return argv + list(args.pytest_args)


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a CI job's timeout, ``kill``) ends the suite as Ctrl-C does: pytest's interrupted
    path writes what was measured (an ABORTED entry) and the fixtures stop the target."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    import time

    import pytest

    from harness.boards.selection import target_setup
    from harness.firmware.build import build_firmware
    from harness.suite.outputs import SUMMARY_NAME, read_summary, verdict_table

    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = out_dir / SUMMARY_NAME
    if stale.exists():
        stale.unlink()   # a failed run must not print the previous run's table
    started = time.monotonic()
    if args.models_dir:
        from harness.errors import ConfigError
        folder = Path(args.models_dir)
        if not folder.is_dir() or not any(folder.glob("*.json")):
            raise ConfigError(f"models folder {folder.resolve()} does not exist or holds no <name>.json")
    setup = target_setup(args.target, args.board, inventory=args.inventory)
    image = build_firmware(board=setup.firmware_board, engine=args.engine)
    print(f"hil run: firmware {image.elf} ({image.flash_bytes} B flash, {image.ram_bytes} B RAM), "
          f"target {args.target}", file=sys.stderr, flush=True)
    # pytest captures fd 2; progress lines go to a duplicate taken before it does
    progress_fd = None if args.no_progress else os.dup(sys.stderr.fileno())
    try:
        with _sigterm_as_interrupt():
            status = pytest.main(pytest_arguments(args, out_dir, progress_fd))
    finally:
        if progress_fd is not None:
            os.close(progress_fd)
    elapsed = time.monotonic() - started
    if not stale.exists():
        print(f"hil run: the suite wrote no summary (pytest exit {int(status)}); see {out_dir / 'report.html'}",
              file=sys.stderr)
        return int(status) or 1
    summary = read_summary(out_dir)
    print()
    print(verdict_table(summary["models"], reason_width=150))
    for model in summary["models"]:
        if model["verdict"] != "OK":
            print(f"\n{model['model']} {model['verdict']}:")
            for reason in model["reasons"]:
                print(f"  - {reason}")
    for model in summary["models"]:
        device_reasons = [r for r in model.get("device_reasons", []) if r not in model["reasons"]]
        if device_reasons:
            print(f"\n{model['model']} device ({model.get('device_status', '?')}, not the model):")
            for reason in device_reasons:
                print(f"  - {reason}")
    windows = sum(t["windows"] for t in summary["timing"].values())
    device_s = sum(t["device_seconds"] for t in summary["timing"].values())
    print()
    rate = f"{windows / device_s:.1f}" if device_s else "n/a"
    print(f"windows: {windows} on {args.target}, {rate} windows/s on the device; suite {elapsed:.0f} s")
    for name in ("report.html", "junit.xml", "windows.parquet", "windows.csv", "input_codes.npz", SUMMARY_NAME):
        print(f"{name}: {out_dir / name}")
    print(f"expectations: {'all hold' if int(status) == 0 else f'FAILED (pytest exit {int(status)})'}")
    if args.nightly:
        from harness.nightly.compare import RegressionThresholds
        from harness.nightly.nightly import record_nightly
        from harness.suite.models import MODELS_DIR
        regressed = record_nightly(out_dir, summary, history_path=args.history, baseline_path=args.baseline,
                                   target=args.target, board=args.board, engine=args.engine,
                                   firmware_build_id=image.build_id, models_dir=args.models_dir or MODELS_DIR,
                                   suite_exit=int(status),
                                   thresholds=RegressionThresholds(args.recall_drop, args.cost_increase))
        return 1 if regressed or int(status) != 0 else 0
    return 0 if int(status) == 0 else 1
