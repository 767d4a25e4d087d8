"""``hil run --nightly``: record a finished suite run in the history, compare it with the previous
run and the pinned baseline, print each regression in plain words; exit 1 on any."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from harness.nightly.compare import RegressionThresholds, nightly_findings, read_baseline
from harness.nightly.history import append_history, git_describe, new_run_id, read_history, run_rows


def record_nightly(out_dir: Path, summary: dict, *, history_path: str | Path, baseline_path: str | Path | None,
                   target: str, board: str, engine: str, firmware_build_id: str, models_dir: str | Path,
                   suite_exit: int, thresholds: RegressionThresholds = RegressionThresholds(),
                   now: datetime | None = None, stream=None) -> int:
    """Append this run's rows, print the findings; 1 if a regression was found, else 0."""
    stream = stream or sys.stdout
    now = now or datetime.now(timezone.utc)
    windows_path = Path(out_dir) / "windows.parquet"
    windows = pd.read_parquet(windows_path) if windows_path.is_file() else None
    rows = run_rows(summary, windows, run_id=new_run_id(now), time_utc=now, git=git_describe(),
                    firmware_build_id=firmware_build_id, target=target, board=board, engine=engine,
                    models_dir=models_dir, suite_exit=suite_exit)
    history = read_history(history_path)
    baseline = read_baseline(baseline_path) if baseline_path else None
    findings, prev_id = nightly_findings(rows, history, baseline, f"baseline {baseline_path}", thresholds)
    append_history(history_path, rows)
    run_id = rows.iloc[0]["run_id"]
    print(f"\nnightly: run {run_id} ({len(rows)} models) appended to {history_path}", file=stream)
    print(f"nightly: compared with {'previous run ' + prev_id if prev_id else 'no previous run (first on this target/board)'}"
          f"{' and baseline ' + str(baseline_path) if baseline_path else ''}; thresholds: recall drop "
          f"> {thresholds.recall_drop:.2f}, cost increase > {thresholds.cost_increase:.0%}", file=stream)
    for f in findings:
        if not f.regression:
            print(f"nightly: note: {f}", file=stream)
    regressions = [f for f in findings if f.regression]
    if regressions:
        print(f"nightly: {len(regressions)} REGRESSION(S):", file=stream)
        for f in regressions:
            print(f"  - {f}", file=stream)
    else:
        print("nightly: no regression", file=stream)
    return 1 if regressions else 0
