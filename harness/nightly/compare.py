"""The regression rules of a nightly run, against the previous run and a pinned baseline.

A model regresses, against a reference row of the same model, when:
- **accuracy**: its device recall of a class falls by more than ``recall_drop`` (default 0.05);
- **collapse**: its verdict is worse than the reference's (OK < DEGRADED < COLLAPSED);
- **latency**: its median cost per inference (instructions on QEMU, cycles on a board) rises by
  more than ``cost_increase`` (default 0.05 = 5 %), when both are in the same unit.
A model the reference lacks is new, and a model file whose sha256 changed is noted: neither is a
regression by itself.

Apart from the model, the device: a window the device failed twice (reset and retried once in
between) or a run that aborted fails the night as a **device** finding of this run alone, worded
so nobody reads it as a model regression; windows that answered after one reset are noted.

The baseline is a JSON file ``{"models": {name: {verdict, recall_device: {class: r}, cost_median,
cost_unit, ...}}}`` (``hil history --pin`` writes it from the latest run) or a Parquet file of
history rows (the last run in it is used).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import ConfigError
from harness.nightly.history import VERDICT_RANK, run_order

DEFAULT_RECALL_DROP = 0.05
DEFAULT_COST_INCREASE = 0.05


@dataclass(frozen=True)
class RegressionThresholds:
    recall_drop: float = DEFAULT_RECALL_DROP
    cost_increase: float = DEFAULT_COST_INCREASE


@dataclass(frozen=True)
class Finding:
    model: str
    kind: str        # accuracy | collapse | latency | device (fail the night); new | changed | reset (notes)
    against: str     # "previous run <id>" | "baseline <path>"
    message: str
    regression: bool = True

    def __str__(self) -> str:
        return f"{self.model}: {self.message} (vs {self.against})"


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _recalls(row: dict) -> dict[str, float]:
    return {k[len("recall_device_"):]: float(v) for k, v in row.items()
            if k.startswith("recall_device_") and _finite(v)}


def compare_model(current: dict, reference: dict, against: str,
                  thresholds: RegressionThresholds = RegressionThresholds()) -> list[Finding]:
    """Regressions of one model's row against a reference row (both flat history rows)."""
    model = str(current["model"])
    found = []
    cur_recall, ref_recall = _recalls(current), _recalls(reference)
    for cls in sorted(set(cur_recall) & set(ref_recall)):
        drop = ref_recall[cls] - cur_recall[cls]
        if drop > thresholds.recall_drop + 1e-12:
            found.append(Finding(model, "accuracy", against,
                                 f"device recall of '{cls}' fell from {ref_recall[cls]:.2f} to {cur_recall[cls]:.2f} "
                                 f"(drop {drop:.2f} > {thresholds.recall_drop:.2f})"))
    cur_sha, ref_sha = str(current.get("model_sha256") or ""), str(reference.get("model_sha256") or "")
    if cur_sha and ref_sha and cur_sha != ref_sha:
        found.append(Finding(model, "changed", against, f"model file changed (sha256 {ref_sha[:12]} -> {cur_sha[:12]})",
                             regression=False))
    cur_v, ref_v = str(current.get("verdict")), str(reference.get("verdict"))
    if VERDICT_RANK.get(cur_v, 0) > VERDICT_RANK.get(ref_v, 0):
        found.append(Finding(model, "collapse", against, f"verdict {ref_v} -> {cur_v} (worse than before)"))
    cur_c, ref_c = current.get("cost_median"), reference.get("cost_median")
    if _finite(cur_c) and _finite(ref_c) and float(ref_c) > 0 \
            and str(current.get("cost_unit", "")) == str(reference.get("cost_unit", "")):
        rise = float(cur_c) / float(ref_c) - 1.0
        if rise > thresholds.cost_increase + 1e-12:
            unit = current.get("cost_unit") or "cost"
            found.append(Finding(model, "latency", against,
                                 f"median {unit} per inference rose from {float(ref_c):.0f} to {float(cur_c):.0f} "
                                 f"(+{rise:.1%} > {thresholds.cost_increase:.0%})"))
    return found


def device_findings(current: pd.DataFrame) -> list[Finding]:
    """The device's own failures in this run (not comparisons): DEVICE FAULT windows, aborted runs,
    and, as notes, windows that answered after a reset."""
    found = []
    for row in current.to_dict("records"):
        model = str(row["model"])
        faults = int(row.get("device_faults") or 0)
        recoveries = int(row.get("device_recoveries") or 0)
        aborted = str(row.get("aborted") or "")
        if aborted and aborted != "nan":
            found.append(Finding(model, "device", "this run", f"run aborted (the device or the bench, not the model): "
                                                              f"{aborted}"))
        elif faults:
            found.append(Finding(model, "device", "this run",
                                 f"DEVICE FAULT on {faults} window(s): the device failed them twice, reset in between "
                                 "(the board or its firmware, not the model; see summary.json fault_events)"))
        if recoveries:
            found.append(Finding(model, "reset", "this run", f"{recoveries} window(s) answered only after a device reset",
                                 regression=False))
    return found


def compare_runs(current: pd.DataFrame, reference: pd.DataFrame, against: str,
                 thresholds: RegressionThresholds = RegressionThresholds()) -> list[Finding]:
    """Every model of ``current`` against the same model in ``reference`` (last row per model)."""
    found = []
    ref = {str(r["model"]): r for r in reference.to_dict("records")}
    cur_models = set()
    for row in current.to_dict("records"):
        name = str(row["model"])
        cur_models.add(name)
        if name not in ref:
            found.append(Finding(name, "new", against, "no reference figures (new model)", regression=False))
            continue
        found += compare_model(row, ref[name], against, thresholds)
    return found


def previous_run(history: pd.DataFrame, target: str, board: str, exclude_run: str | None = None) -> pd.DataFrame:
    """The rows of the latest run in ``history`` on the same target and board (empty if none)."""
    if history.empty:
        return history
    same = history[(history["target"] == target) & (history["board"] == board)]
    if exclude_run is not None:
        same = same[same["run_id"] != exclude_run]
    order = run_order(same)
    return same[same["run_id"] == order[-1]] if order else same.iloc[0:0]


def latest_run(history: pd.DataFrame) -> pd.DataFrame:
    order = run_order(history)
    return history[history["run_id"] == order[-1]] if order else history


def baseline_from_rows(rows: pd.DataFrame) -> dict:
    models = {}
    for r in rows.to_dict("records"):
        models[str(r["model"])] = {
            "verdict": r["verdict"], "recall_device": _recalls(r),
            "cost_median": float(r["cost_median"]) if _finite(r.get("cost_median")) else None,
            "cost_unit": r.get("cost_unit", ""), "model_sha256": r.get("model_sha256", ""),
            "target": r.get("target", ""), "board": r.get("board", "")}
    first = rows.iloc[0] if len(rows) else {}
    return {"format": "hil-nightly-baseline/1", "run_id": str(first.get("run_id", "")),
            "git_describe": str(first.get("git_describe", "")), "models": models}


def write_baseline(history: pd.DataFrame, path: str | Path) -> Path:
    """Pin the latest run of ``history`` as the baseline (JSON, or Parquet rows for a .parquet path)."""
    rows = latest_run(history)
    if rows.empty:
        raise ConfigError("the history holds no run to pin")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        rows.to_parquet(path, index=False)
    else:
        path.write_text(json.dumps(baseline_from_rows(rows), indent=2, sort_keys=True) + "\n")
    return path


def read_baseline(path: str | Path) -> pd.DataFrame:
    """A baseline file as history-like rows (model, verdict, recall_device_<class>, cost_median, cost_unit)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"baseline {path} does not exist (pin one with: hil history --pin {path})")
    if path.suffix == ".parquet":
        return latest_run(pd.read_parquet(path))
    try:
        data = json.loads(path.read_text())
        rows = []
        for name, m in data["models"].items():
            row = {"model": name, "verdict": m.get("verdict", "OK"), "cost_median": m.get("cost_median"),
                   "cost_unit": m.get("cost_unit", ""), "target": m.get("target", ""), "board": m.get("board", "")}
            row.update({f"recall_device_{c}": v for c, v in (m.get("recall_device") or {}).items()})
            rows.append(row)
    except (ValueError, KeyError, AttributeError, TypeError) as e:
        raise ConfigError(f"baseline {path} is not a nightly baseline: {e}") from e
    return pd.DataFrame(rows)


def nightly_findings(current: pd.DataFrame, history: pd.DataFrame, baseline: pd.DataFrame | None,
                     baseline_label: str = "baseline",
                     thresholds: RegressionThresholds = RegressionThresholds()) -> tuple[list[Finding], str | None]:
    """Findings against the previous run (same target/board, before ``current`` is appended) and
    the baseline; returns (findings, previous run id or None)."""
    first = current.iloc[0]
    prev = previous_run(history, str(first["target"]), str(first["board"]), exclude_run=str(first["run_id"]))
    findings: list[Finding] = device_findings(current)
    prev_id = None
    if not prev.empty:
        prev_id = str(prev.iloc[0]["run_id"])
        findings += compare_runs(current, prev, f"previous run {prev_id}", thresholds)
    if baseline is not None and not baseline.empty:
        findings += compare_runs(current, baseline, baseline_label, thresholds)
    return findings, prev_id
