"""hil replay: find where a field recording breaks the INT8 pipeline.

Host triage first: every window through the float reference and the host INT8 reference,
streaming the file in chunks (a day at 1.6 kHz never has to fit in memory), each chunk journaled
in --out as it finishes (--resume continues an interrupted run; a second run over the same file,
model and options reuses the journal). Then the disagreeing windows (and a sample of agreeing
ones) run on the device, which must give the host INT8 output codes, with input codes equal to
the host mirror. Report: --out/report.json, report.md, PNG plots.

--bundle FILE.json replays a team's own model: window length, hop, rate, classes, scaler, the
sensor's counts per g and the recordings' layout (columns, units) come from the bundle, and the
recording's labels must be among its classes. --model takes a fixtures/models name.

--shrink NAME reduces one disagreeing window's neighbourhood (ddmin over windows, then over time)
to the smallest segment that still disagrees and saves it as a regression case in --cases-dir.
"""

from __future__ import annotations

import argparse

from harness.cli.device import add_device_arguments
from harness.cli.options import add_bundle_argument, add_counts_per_g_argument, add_recording_arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser("replay", help="triage a field recording on the host, confirm on the device, shrink",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_arguments(parser)
    parser.add_argument("--trace", required=True, help="recording: .csv or .parquet")
    parser.add_argument("--model", default=None, help="fixtures/models name, <name>.json or <name>.tflite")
    add_bundle_argument(parser)
    add_recording_arguments(parser)
    parser.add_argument("--allow-gaps", action="store_true", help="warn about gaps (rows named) instead of failing")
    add_counts_per_g_argument(parser)
    parser.add_argument("--chunk-rows", type=int, default=65536, help="rows per chunk (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes running the host references (default: %(default)s)")
    parser.add_argument("--out", default="replay-out", help="journal and report folder (default: %(default)s)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted triage in --out")
    parser.add_argument("--sample-agreeing", type=int, default=16,
                        help="agreeing windows also replayed on the device (default: %(default)s)")
    parser.add_argument("--max-confirm", type=int, default=512,
                        help="disagreeing windows replayed on the device at most (default: %(default)s)")
    parser.add_argument("--no-device", action="store_true", help="host triage and report only")
    parser.add_argument("--shrink", default=None, metavar="NAME", help="save a shrunk regression case NAME")
    parser.add_argument("--shrink-window", type=int, default=None, metavar="INDEX",
                        help="window to shrink (default: the first disagreeing one)")
    parser.add_argument("--cases-dir", default="fixtures/field", help="where --shrink writes (default: %(default)s)")
    parser.add_argument("--max-plots", type=int, default=12, help="window plots in the report (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per device request")
    parser.set_defaults(func=run)


def replay(args: argparse.Namespace, after_chunk=None) -> dict:
    """The whole command as a call (tests pass ``after_chunk`` to interrupt it)."""
    import sys
    import time

    from harness.cli.options import recording_options
    from harness.errors import ConfigError
    from harness.replay.reader import ChunkedTrace
    from harness.replay.report import build_report, write_report
    from harness.replay.run import (
        Progress,
        choose_confirmation,
        collect_windows,
        confirm_on_device,
        triage_recording,
    )
    from harness.replay.triage import HostTriage

    if bool(args.model) == bool(args.bundle):
        raise ConfigError("give the model: --bundle FILE.json (a team's bundle) or --model NAME (fixtures), one of them")
    triage = HostTriage(args.bundle or args.model, args.counts_per_g)
    trace = ChunkedTrace(args.trace, rate_hz=triage.rate_hz, chunk_rows=args.chunk_rows,
                         allow_gaps=args.allow_gaps, **recording_options(args, triage.bundle))
    progress = None if args.quiet else Progress(trace.total_rows(), sys.stderr)
    started = time.perf_counter()
    outcome = triage_recording(trace, triage, args.out, resume=args.resume, progress=progress,
                               after_chunk=after_chunk, workers=args.workers)
    chosen = choose_confirmation(outcome, args.sample_agreeing, args.max_confirm)
    indices = sorted(set(chosen["disagreeing"]) | set(chosen["agreeing"])
                     | {d["index"] for d in outcome.disagreements[:args.max_confirm]})
    windows = collect_windows(trace, triage.window_len, indices, triage.hop)
    confirmation = None
    device_s = 0.0
    if not args.no_device:
        from harness.cli.device import open_device
        device_started = time.perf_counter()
        with open_device(args) as device:
            confirmation = confirm_on_device(device, triage,
                                             {i: windows[i] for i in chosen["disagreeing"] + chosen["agreeing"]},
                                             timeout_s=args.timeout)
        device_s = time.perf_counter() - device_started
    report = build_report(outcome, triage, windows, confirmation, chosen)
    run_info = {"journal": outcome.journal_path, "reused_journal": outcome.reused,
                "resumed_chunks": outcome.resumed_chunks, "triaged_windows": outcome.triaged_windows,
                "triage_s": round(outcome.triage_s, 3), "device_s": round(device_s, 3),
                "total_s": round(time.perf_counter() - started, 3)}
    write_report(args.out, report, outcome, triage, windows, args.max_plots, run_info)
    if args.shrink:
        from harness.replay.shrink import save_case, shrink
        if not outcome.disagreements:
            raise ConfigError("--shrink: float and host INT8 agree on every window; nothing to shrink")
        target = outcome.disagreements[0]
        if args.shrink_window is not None:
            matches = [d for d in outcome.disagreements if d["index"] == args.shrink_window]
            if not matches:
                raise ConfigError(f"--shrink-window {args.shrink_window} is not a disagreeing window")
            target = matches[0]
        segment = shrink(trace, triage, target)
        source = {"recording": trace.path.name, "recording_sha256": outcome.header["trace"]["sha256"]}
        report["shrunk_case"] = str(save_case(args.cases_dir, args.shrink, segment, triage, source, target))
    return report


def run(args: argparse.Namespace) -> int:
    report = replay(args)
    s = report["summary"]
    print(f"windows: {s['windows']}")
    print(f"disagreeing_windows: {s['disagreeing_windows']}")
    print(f"kinds: {', '.join(f'{k} x{v}' for k, v in s['kinds'].items()) or 'none'}")
    print(f"episodes: {len(s['episodes'])}")
    for e in s["episodes"]:
        print(f"  {e['start_s']:.3f}-{e['stop_s']:.3f} s: {e['windows']} window(s) "
              f"{', '.join(f'{k} x{v}' for k, v in e['kinds'].items())}")
    if report["device"] is not None:
        d = report["device"]
        print(f"device: {d['outputs_equal']}/{d['windows']} equal to host INT8, "
              f"mirror {'equal' if d['mirror_equal'] else 'DIFFERS'}")
    if s["dropped"]:
        print(f"dropped: {len(s['dropped'])} stretch(es) in no window (see report)")
    if "shrunk_case" in report:
        print(f"case: {report['shrunk_case']}")
    print(f"report: {args.out}/report.md")
    return 0 if report["device"] is None or report["device"]["all_equal"] else 1
