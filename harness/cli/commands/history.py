"""hil history: the nightly history (hil run --nightly) as a trend table, runs x models (verdict,
device recall of 'normal', median cost per inference), with an optional plot of recall and cost
per model over the runs, and --pin to write the latest run as the baseline for hil run --baseline.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("history", help="nightly history: trend table, plot, pin a baseline",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", default="reports/history.parquet", help="history file (default: %(default)s)")
    parser.add_argument("--target", default=None, help="only runs on this target")
    parser.add_argument("--board", default=None, metavar="FOLDER", help="only runs of this firmware board")
    parser.add_argument("--plot", default=None, metavar="OUT.png", help="plot recall and cost per model over runs")
    parser.add_argument("--pin", default=None, metavar="BASELINE",
                        help="write the latest run as a baseline (.json, or .parquet rows)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.errors import ConfigError
    from harness.nightly.compare import write_baseline
    from harness.nightly.history import plot_history, read_history, run_order, trend_table

    history = read_history(args.history)
    if history.empty:
        raise ConfigError(f"no history at {Path(args.history)}; run: hil run --nightly --history {args.history}")
    if args.target:
        history = history[history["target"] == args.target]
    if args.board:
        history = history[history["board"] == args.board]
    print(f"history {args.history}: {len(run_order(history))} run(s), {history['model'].nunique()} model(s)")
    print(trend_table(history))
    if args.plot:
        print(f"plot: {plot_history(history, args.plot)}")
    if args.pin:
        print(f"baseline: {write_baseline(history, args.pin)} (pinned the latest run)")
    return 0
