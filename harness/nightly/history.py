"""The nightly history: one row per model and run, appended to a Parquet file.

Columns: run_id, time_utc, git_describe, firmware_build_id, target, board, engine, model,
model_sha256 (of the INT8 .tflite the run used), verdict, recall_device_<class>,
recall_float_<class>, top1_agreement, exact_share, band_codes, band_bits, cost_median (per
inference, over every window of the model), cost_unit (instructions on QEMU, cycles on a board),
windows, suite_exit (the acceptance suite's pytest exit status), device_status (OK or DEVICE FAULT),
device_faults (windows the device failed twice, reset in between), device_recoveries (windows it
answered after one reset), aborted (why the run stopped early; '' when it finished; verdict is
then ABORTED), place and exporter (the labgrid places and exporters the run used, comma-separated;
'' off a farm).
"""

from __future__ import annotations

import subprocess
import uuid
from datetime import datetime
from pathlib import Path

import pandas as pd

DEFAULT_HISTORY = Path("reports") / "history.parquet"
VERDICT_RANK = {"OK": 0, "DEGRADED": 1, "COLLAPSED": 2}


def git_describe(repo: str | Path | None = None) -> str:
    from harness.paths import CHECKOUT_DIR
    try:
        # installed from a wheel there is no harness checkout; the caller's folder is the project
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"],
                             cwd=repo or CHECKOUT_DIR or Path.cwd(), capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def model_sha256(models_dir: str | Path, name: str) -> str:
    """sha256 of the INT8 model file a models folder's ``<name>.json`` names ('' if absent)."""
    import json

    from harness.models.metadata import sha256_file
    json_path = Path(models_dir) / f"{name}.json"
    try:
        meta = json.loads(json_path.read_text())
        return sha256_file(json_path.parent / meta["files"]["int8"]["name"])
    except (OSError, KeyError, ValueError):
        return ""


def cost_medians(windows: pd.DataFrame | None) -> dict[str, tuple[float, str]]:
    """model -> (median cost per inference over all its windows, unit)."""
    if windows is None or windows.empty or "cost" not in windows:
        return {}
    out = {}
    for model, group in windows.groupby("model"):
        unit = str(group["cost_unit"].iloc[0]) if "cost_unit" in group else ""
        out[str(model)] = (float(group["cost"].median()), unit)
    return out


def run_rows(summary: dict, windows: pd.DataFrame | None, *, run_id: str, time_utc: datetime, git: str,
             firmware_build_id: str, target: str, board: str, engine: str = "", models_dir: str | Path | None = None,
             suite_exit: int = 0, place: str | None = None, exporter: str | None = None) -> pd.DataFrame:
    """One row per model of a suite summary (harness.suite.outputs.read_summary). ``place`` and
    ``exporter``: None takes those this process acquired (harness.farm.placements) for a labgrid run."""
    costs = cost_medians(windows)
    if target == "labgrid" and (place is None or exporter is None):
        from harness.farm import placements
        used = placements()
        place = place if place is not None else ",".join(sorted({p.place for p in used}))
        exporter = exporter if exporter is not None else ",".join(sorted({p.exporter for p in used}))
    rows = []
    for m in summary["models"]:
        name = m["model"]
        cost, unit = costs.get(name, (float("nan"), ""))
        row = {"run_id": run_id, "time_utc": pd.Timestamp(time_utc).tz_convert("UTC") if pd.Timestamp(time_utc).tzinfo
               else pd.Timestamp(time_utc, tz="UTC"),
               "git_describe": git, "firmware_build_id": firmware_build_id, "target": target, "board": board,
               "engine": engine, "model": name,
               "model_sha256": model_sha256(models_dir, name) if models_dir else "",
               "verdict": m["verdict"]}
        for kind in ("device", "float"):
            for cls, value in (m.get(f"recall_{kind}") or {}).items():
                row[f"recall_{kind}_{cls}"] = float("nan") if value is None else float(value)
        row.update(top1_agreement=m.get("top1_agreement"), exact_share=m.get("exact_share"),
                   band_codes=m.get("band_codes"), band_bits=m.get("band_bits"),
                   cost_median=cost, cost_unit=unit, windows=m.get("windows"), suite_exit=int(suite_exit),
                   device_status=str(m.get("device_status", "OK")), device_faults=int(m.get("device_faults", 0)),
                   device_recoveries=int(m.get("device_recoveries", 0)), aborted=str(m.get("aborted", "")),
                   place=str(m.get("place", place or "")), exporter=str(m.get("exporter", exporter or "")))
        rows.append(row)
    return pd.DataFrame(rows)


def read_history(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame()
    return pd.read_parquet(path)


def append_history(path: str | Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Append ``rows`` and rewrite the file (atomically: a temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = read_history(path)
    table = rows if old.empty else pd.concat([old, rows], ignore_index=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    table.to_parquet(tmp, index=False)
    tmp.replace(path)
    return table


def run_order(history: pd.DataFrame) -> list[str]:
    """run ids, oldest first."""
    if history.empty:
        return []
    first = history.groupby("run_id")["time_utc"].min().sort_values(kind="stable")
    return list(first.index)


def _fmt_cost(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "n/a"
    short = {"instructions": "instr", "cycles": "cyc"}.get(unit, unit)
    return f"{value / 1e6:.2f}M {short}".strip() if value >= 1e5 else f"{value:.0f} {short}".strip()


def trend_table(history: pd.DataFrame) -> str:
    """Runs (oldest first) x models: verdict, device normal recall, cost per inference."""
    if history.empty:
        return "(no runs)"
    models = sorted(history["model"].unique())
    head = ["run", "time (UTC)", "git", "target/board"] + models
    rows = []
    for run_id in run_order(history):
        runs = history[history["run_id"] == run_id]
        first = runs.iloc[0]
        row = [run_id, pd.Timestamp(first["time_utc"]).strftime("%Y-%m-%d %H:%M:%S"), str(first["git_describe"]),
               f"{first['target']}/{first['board']}"]
        for model in models:
            m = runs[runs["model"] == model]
            if m.empty:
                row.append("-")
                continue
            r = m.iloc[-1]
            recall = r.get("recall_device_normal", float("nan"))
            recall_s = "n/a" if recall != recall else f"{recall:.2f}"
            row.append(f"{r['verdict']} {recall_s} {_fmt_cost(float(r['cost_median']), str(r['cost_unit']))}")
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append("cells: verdict, device recall of 'normal', median cost per inference")
    return "\n".join(lines)


def plot_history(history: pd.DataFrame, out: str | Path) -> Path:
    """Device normal recall and cost per inference per model over the runs (PNG)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = run_order(history)
    index = {r: i for i, r in enumerate(order)}
    fig, (ax_r, ax_c) = plt.subplots(2, 1, figsize=(max(6, 1.2 * len(order) + 3), 6), sharex=True)
    for model, group in history.groupby("model"):
        group = group.assign(_x=group["run_id"].map(index)).sort_values("_x")
        if "recall_device_normal" in group:
            ax_r.plot(group["_x"], group["recall_device_normal"], marker="o", label=str(model))
        ax_c.plot(group["_x"], group["cost_median"] / 1e6, marker="o", label=str(model))
    ax_r.set_ylabel("device recall (normal)")
    ax_r.set_ylim(-0.02, 1.02)
    ax_r.legend(fontsize=8, loc="lower left")
    units = sorted(set(history["cost_unit"].astype(str))) if "cost_unit" in history else []
    ax_c.set_ylabel(f"median M {'/'.join(u for u in units if u) or 'cost'}\nper inference")
    ax_c.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax_c.set_xticks(range(len(order)))
    ax_c.set_xticklabels([r.split("-")[0] for r in order], rotation=30, ha="right", fontsize=7)
    ax_c.set_xlabel("run")
    fig.suptitle("nightly history")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
