"""hil run: the main job. Build the pipeline firmware, boot the target, stream every model (the
fixtures, a models folder, or your bundles: --bundle) through its scenarios, compare with the float
and host-INT8 references, judge collapse on the device's own input codes, and print the verdict
table. A thin layer over harness.suite.api.run_suite.

Writes into --out: report.html (self-contained, figures as base64 PNG), junit.xml (a test case per
check and model), windows.parquet + windows.csv (one row per window), input_codes.npz, summary.json.
Exit status: 0 when every check holds (each bundle's expectations; without any, a verdict other
than OK fails) and the device answered every window; 1 when one fails (a model verdict, or a
DEVICE FAULT: a window the device failed twice, reset in between); 2 on a harness error (a bad
bundle names its file and field, before any device work). A run that aborts still writes what it
measured (an ABORTED entry in summary.json, its windows in the tables), and --out/journal.jsonl
holds every window as it arrived: after a kill (even kill -9), --resume goes on from there.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path


def register(subparsers) -> None:
    from harness.cli.device import add_board_arguments, add_tflm_dir_argument
    from harness.suite.config import add_cli_options
    parser = subparsers.add_parser("run", help="the main job: the acceptance suite on a target, verdict table, report",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="qemu", help="target backend (default: %(default)s)")
    add_board_arguments(parser)
    parser.add_argument("--place", default=None, metavar="NAME[,NAME...]",
                        help="with --target labgrid: the place, or several (any free one per job; "
                             "default: $LG_PLACE); the coordinator is $LG_COORDINATOR (docs/real-boards.md)")
    parser.add_argument("--engine", default="portable", help="inference engine of the firmware (default: %(default)s)")
    add_tflm_dir_argument(parser)
    parser.add_argument("--firmware", default=None, metavar="ELF",
                        help="boot this firmware (your own application linked with the agent, docs/porting.md) "
                             "instead of building the harness's")
    parser.add_argument("--bundle", action="append", default=[], metavar="JSON",
                        help="a model bundle (docs/bundle.md) to judge; repeat for more (with --models: both)")
    add_cli_options(parser)
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="targets at once, each streaming its share of the models (default: one QEMU per "
                             "core, at most one per model; 1 for a board)")
    parser.add_argument("--out", default="reports/suite", help="output folder (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no per-scenario progress lines on stderr")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run killed in --out: its journal.jsonl (every window as it arrived) "
                             "must be of the same bundles, options, firmware and target; the windows it holds are "
                             "not streamed again, and the report is the uninterrupted run's")
    nightly = parser.add_argument_group("nightly (harness.nightly)")
    nightly.add_argument("--nightly", action="store_true",
                         help="append the run to --history, compare with the previous run and --baseline, exit 1 on a regression")
    nightly.add_argument("--history", default="reports/history.parquet", help="history file (default: %(default)s)")
    nightly.add_argument("--baseline", default=None, help="pinned baseline, JSON or Parquet (hil history --pin)")
    nightly.add_argument("--recall-drop", type=float, default=0.05,
                         help="regression: device recall of a class falls by more than this (default: %(default)s)")
    nightly.add_argument("--cost-increase", type=float, default=0.05,
                         help="regression: median cost per inference rises by more than this share (default: %(default)s)")
    parser.set_defaults(func=run)


def suite_config(args: argparse.Namespace):
    from harness.suite.config import config_from_options
    return config_from_options(lambda name: "" if getattr(args, name) is None else str(getattr(args, name)))


def requested_models(args: argparse.Namespace) -> list[str]:
    names = [n.strip() for n in (args.models or "").split(",") if n.strip()]
    return names + [str(Path(b).resolve()) for b in args.bundle]


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a CI job's timeout, ``kill``) ends the suite as Ctrl-C does: what was measured is
    written (an ABORTED entry) and the target is stopped."""
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


def print_outcome(outcome, out_dir: Path, target: str, elapsed_s: float) -> None:
    from harness.suite.outputs import SUMMARY_NAME, verdict_table
    summaries = outcome.summaries()
    print()
    print(verdict_table(summaries, reason_width=150))
    for model in summaries:
        if model["verdict"] != "OK":
            print(f"\n{model['model']} {model['verdict']}:")
            for reason in model["reasons"]:
                print(f"  - {reason}")
    for model in summaries:
        device_reasons = [r for r in model.get("device_reasons", []) if r not in model["reasons"]]
        if device_reasons:
            print(f"\n{model['model']} device ({model.get('device_status', '?')}, not the model):")
            for reason in device_reasons:
                print(f"  - {reason}")
    windows = sum(r.run.windows for r in outcome.results)
    device_s = sum(r.run.device_seconds for r in outcome.results)
    print()
    rate = f"{windows / device_s:.1f}" if device_s else "n/a"
    print(f"windows: {windows} on {target}, {rate} windows/s on the device; suite {elapsed_s:.0f} s "
          f"on {outcome.jobs} target(s)")
    for name in ("report.html", "junit.xml", "windows.parquet", "windows.csv", "input_codes.npz", SUMMARY_NAME):
        print(f"{name}: {out_dir / name}")
    failed = [c for c in outcome.checks if not c.passed]
    if outcome.passed:
        print(f"expectations: all hold ({len(outcome.checks)} checks)")
    else:
        print(f"expectations: FAILED ({len(failed)} of {len(outcome.checks)} checks"
              + (", a run aborted" if outcome.aborted else "") + ")")
        for check in failed:
            print(f"  - {check.model}: {check.check}: {check.failures[0]}")


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from harness.firmware.build import engine_make_vars
    from harness.suite.api import run_suite
    from harness.suite.outputs import SUMMARY_NAME
    from harness.suite.run import Progress

    make_vars = None if args.firmware else engine_make_vars(args.engine, args.tflm_dir)  # before any work
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = out_dir / SUMMARY_NAME
    if stale.exists():
        stale.unlink()   # a failed run must not print the previous run's table
    started = time.monotonic()
    config = suite_config(args)
    progress = Progress(sys.stderr, enabled=not args.no_progress)
    with _sigterm_as_interrupt():
        outcome = run_suite(requested_models(args), target=args.target, board=args.board,
                            inventory_board=args.inventory_board, engine=args.engine, config=config,
                            models_dir=args.models_dir or None, out_dir=out_dir, inventory=args.inventory,
                            place=args.place, progress=progress, firmware=args.firmware, jobs=args.jobs,
                            resume=args.resume, make_vars=make_vars)
    print(f"hil run: firmware {outcome.firmware.elf} ({outcome.firmware.flash_bytes} B flash, "
          f"{outcome.firmware.ram_bytes} B RAM), target {args.target}", file=sys.stderr, flush=True)
    print_outcome(outcome, out_dir, args.target, time.monotonic() - started)
    status = 0 if outcome.passed else 1
    if args.nightly:
        from harness.nightly.compare import RegressionThresholds
        from harness.nightly.nightly import record_nightly
        from harness.suite.suite_model import MODELS_DIR
        from harness.suite.outputs import read_summary
        regressed = record_nightly(out_dir, read_summary(out_dir), history_path=args.history,
                                   baseline_path=args.baseline, target=args.target, board=outcome.firmware.board,
                                   engine=args.engine, firmware_build_id=outcome.firmware.build_id,
                                   models_dir=args.models_dir or MODELS_DIR, suite_exit=status,
                                   thresholds=RegressionThresholds(args.recall_drop, args.cost_increase))
        return 1 if regressed or status != 0 else 0
    return status
