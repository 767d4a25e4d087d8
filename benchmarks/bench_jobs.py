#!/usr/bin/env python3
"""hil run at --jobs 1 and --jobs 2 in one invocation, interleaved, with the ratio of wall times.

    .venv/bin/python benchmarks/bench_jobs.py [--rounds 2] [--models minmax,robust,log1p,two_stage]
                                              [--windows 32] [--sweep-windows 2]

Not a timed test: it prints figures. Each round runs the library call (harness.suite.api.run_suite,
what hil run calls) once with one QEMU and once with two, alternating the order between rounds so
that a machine's drift loads both alike. Every round checks that the two runs gave the same
windows (windows.parquet equal) and prints per-phase seconds from summary.json; the last line is
the median ratio jobs=2 / jobs=1 of the wall times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from harness.suite.api import run_suite
from harness.suite.config import SuiteConfig


def one_run(models, config, jobs: int, out: Path) -> tuple[float, dict]:
    started = time.monotonic()
    outcome = run_suite(models, config=config, out_dir=out, jobs=jobs)
    wall = time.monotonic() - started
    summary = json.loads((out / "summary.json").read_text())
    assert outcome.jobs == jobs and summary["jobs"] == jobs
    return wall, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", default="minmax,robust,log1p,two_stage")
    parser.add_argument("--windows", type=int, default=32)
    parser.add_argument("--sweep-windows", type=int, default=2)
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    config = SuiteConfig(windows=args.windows, sweep_windows=args.sweep_windows)
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_index in range(args.rounds):
            order = (1, 2) if round_index % 2 == 0 else (2, 1)
            walls, summaries, tables = {}, {}, {}
            for jobs in order:
                out = Path(tmp) / f"r{round_index}_j{jobs}"
                walls[jobs], summaries[jobs] = one_run(models, config, jobs, out)
                tables[jobs] = pd.read_parquet(out / "windows.parquet")
            same = tables[1].equals(tables[2])
            ratio = walls[2] / walls[1]
            ratios.append(ratio)
            print(f"round {round_index + 1} (order {order}): jobs=1 {walls[1]:.1f} s, jobs=2 {walls[2]:.1f} s, "
                  f"ratio {ratio:.2f}, identical windows: {same}")
            for jobs in (1, 2):
                phases = ", ".join(f"{k} {v:.1f}" for k, v in summaries[jobs]["phases_s"].items())
                print(f"  jobs={jobs}: streaming share {summaries[jobs]['streaming_share']:.2f}; phases (s): {phases}")
            if not same:
                print("  DIFFERENT windows between --jobs 1 and --jobs 2")
                return 1
    print(f"median ratio jobs=2 / jobs=1: {statistics.median(ratios):.2f} over {len(ratios)} round(s), "
          f"{len(models)} models, {args.windows} windows per scenario")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
