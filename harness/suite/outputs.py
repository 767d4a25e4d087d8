"""What a suite run leaves behind: one row per window (Parquet + CSV), the device's input codes
(npz), a JSON summary per model, and the verdict table.

Per-window columns: model, scaler, method, scenario, window, label, shock_peak_g (the amplitude
the window's shock was built with; NaN without a shock), peak_g (largest |g| in the window),
float_p_<class>, float_argmax, host_code_<class> (host INT8 reference on the device's input
codes), device_code_<class>, device_p_<class> (dequantized), device_argmax, host_argmax,
codes_distinct_min, code_min, code_max, rail_share (device input-code stats), cost, cost_unit,
device_fault (True: the device failed this window twice, reset in between; every device and host
column of the row is then empty) and fault (the fault's kind and whether a reset recovered it).
input_codes.npz holds, per model, the raw counts and the device's input codes of every window in
the same order, so the code histograms can be redrawn too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from harness.quant.tflite import dequantize
from harness.suite.collapse import window_code_stats

SUMMARY_NAME = "summary.json"


def window_rows(run) -> pd.DataFrame:
    model = run.model
    classes = model.classes
    frames = []
    for s in run.scenarios:
        n = len(s.scenario)
        columns = {"model": model.name, "scaler": model.scaler_label, "method": model.method,
                   "target": run.target, "scenario": s.name, "window": np.arange(n),
                   "label": np.array(classes, dtype=object)[s.scenario.labels],
                   "scored": s.scenario.scored,
                   "shock_peak_g": s.scenario.shock_peak_g,
                   "peak_g": np.abs(s.scenario.g).max(axis=(1, 2))}
        device_scores = dequantize(s.device_outputs, model.output_params)
        for i, c in enumerate(classes):
            columns[f"float_p_{c}"] = s.float_scores[:, i]
        columns["float_argmax"] = (np.array(classes, dtype=object)[s.float_scores.argmax(axis=1)]
                                   if not np.isnan(s.float_scores).all() else None)
        for i, c in enumerate(classes):
            columns[f"host_code_{c}"] = s.host_outputs[:, i]
        for i, c in enumerate(classes):
            columns[f"device_code_{c}"] = s.device_outputs[:, i]
        for i, c in enumerate(classes):
            columns[f"device_p_{c}"] = device_scores[:, i]
        columns["device_argmax"] = np.array(classes, dtype=object)[s.device_outputs.argmax(axis=1)]
        columns["host_argmax"] = np.array(classes, dtype=object)[s.host_outputs.argmax(axis=1)]
        columns.update(window_code_stats(s.device_input_codes, model.input_params))
        columns["cost"] = s.cost
        columns["cost_unit"] = s.cost_unit
        columns["device_fault"] = s.device_fault
        fault = np.full(n, "", dtype=object)
        for e in s.fault_events:
            fault[e.window] = f"{e.kind}: {'recovered after a reset' if e.recovered else 'DEVICE FAULT'}"
        columns["fault"] = fault
        frame = pd.DataFrame(columns)
        if s.device_fault.any():
            measured_by_device = [c for c in frame.columns if c.startswith(("host_", "device_p_", "device_code_"))] + \
                ["device_argmax", "host_argmax", "codes_distinct_min", "code_min", "code_max", "rail_share", "cost"]
            for c in measured_by_device:
                frame[c] = frame[c].astype("Float64" if frame[c].dtype.kind == "f" else
                                           "Int64" if frame[c].dtype.kind in "iu" else object)
                frame.loc[s.device_fault, c] = pd.NA
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_windows(runs, out_dir) -> dict[str, Path]:
    """windows.parquet, windows.csv and input_codes.npz for every ModelRun; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.concat([window_rows(r) for r in runs], ignore_index=True)
    paths = {"parquet": out / "windows.parquet", "csv": out / "windows.csv", "codes": out / "input_codes.npz"}
    table.to_parquet(paths["parquet"], index=False)
    table.to_csv(paths["csv"], index=False)
    arrays = {}
    for r in runs:
        arrays[f"{r.model.name}__counts"] = np.concatenate([s.scenario.counts for s in r.scenarios])
        arrays[f"{r.model.name}__input_codes"] = r.pooled("device_input_codes")
        arrays[f"{r.model.name}__device_fault"] = r.pooled("device_fault")
    np.savez_compressed(paths["codes"], **arrays)
    return paths


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_summary(summaries: list[dict], config: dict, out_dir, extra: dict | None = None) -> Path:
    path = Path(out_dir) / SUMMARY_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean({"config": config, "models": summaries, **(extra or {})}), indent=2) + "\n")
    return path


def read_summary(out_dir) -> dict:
    return json.loads((Path(out_dir) / SUMMARY_NAME).read_text())


def verdict_table(summaries: list[dict], reason_width: int = 0) -> str:
    """Plain-text table: model, scaler, verdict, band codes/bits, float vs device recall of each
    watched class, and the first reason (truncated to ``reason_width`` if > 0)."""
    watched = list(dict.fromkeys(c for s in summaries for c in s.get("watched_classes", [])))
    head = ["model", "scaler", "verdict", "band codes", "bits", *(f"{c} f/dev" for c in watched), "device", "reason"]
    rows = []
    for s in summaries:
        rf, rd = s["recall_float"], s["recall_device"]
        reason = s["reasons"][0] if s["reasons"] else ""
        if reason_width and len(reason) > reason_width:
            reason = reason[:reason_width - 3] + "..."

        def pair(c):
            if rd.get(c) is None:
                return "n/a"
            return ("-" if rf.get(c) is None else f"{rf[c]:.2f}") + f"/{rd[c]:.2f}"
        rows.append([s["model"], s["scaler"] + (f" {s['method']}" if s.get("method") == "QAT" else "")
                     + (" 16x8" if s.get("input_dtype") == "int16" else ""), s["verdict"],
                     "-" if s["band_codes"] is None else f"{s['band_codes']}/{s.get('band_levels', 256)}",
                     "-" if s["band_bits"] is None else f"{s['band_bits']:.1f}",
                     *(pair(c) if c in s.get("watched_classes", [c]) else "" for c in watched),
                     device_cell(s), reason])
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head[:-1], widths)) + "  " + head[-1]]
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r[:-1], widths)) + "  " + r[-1])
    return "\n".join(lines)


def device_cell(summary: dict) -> str:
    """'ok', 'DEVICE FAULT (2 windows)', '1 reset' ...: the device's health, apart from the model."""
    faults, recoveries = summary.get("device_faults", 0), summary.get("device_recoveries", 0)
    parts = []
    if summary.get("aborted"):
        parts.append("ABORTED")
    elif faults:
        parts.append(f"DEVICE FAULT ({faults} window{'s' if faults != 1 else ''})")
    if recoveries:
        parts.append(f"{recoveries} reset{'s' if recoveries != 1 else ''}")
    return ", ".join(parts) or "ok"


def verdict_table_html(summaries: list[dict]) -> str:
    """The verdict table for the HTML report's summary, every reason listed."""
    import html
    colours = {"OK": "#2e7d32", "DEGRADED": "#ef6c00", "COLLAPSED": "#c62828", "ABORTED": "#6a1b9a",
               "PREPROCESSING MISMATCH": "#ad1457"}
    rows = []
    for s in summaries:
        rf, rd = s["recall_float"], s["recall_device"]
        recalls = " ".join(f"{c} {'-' if rf.get(c) is None else format(rf[c], '.2f')}/{rd[c]:.2f}"
                           for c in s.get("watched_classes", []) if rd.get(c) is not None)
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in s["reasons"])
        device_reasons = "".join(f"<li>{html.escape(r)}</li>" for r in s.get("device_reasons", [])
                                 if r not in s["reasons"])
        codes = "-" if s["band_codes"] is None else f"{s['band_codes']}/{s.get('band_levels', 256)} ({s['band_bits']:.1f} bits)"
        exact = "-" if s["exact_share"] is None else f"{s['exact_share']:.1%}"
        device = device_cell(s)
        rows.append(f"<tr><td>{html.escape(s['model'])}</td><td>{html.escape(s['scaler'])} {s['method']}</td>"
                    f"<td style='color:{colours.get(s['verdict'], '#000')};font-weight:bold'>{s['verdict']}</td>"
                    f"<td>{codes}</td><td>{recalls}</td><td>{exact}</td>"
                    f"<td style='color:{'#2e7d32' if device == 'ok' else '#6a1b9a'}'>{html.escape(device)}"
                    + (f"<ul style='margin:0;font-size:smaller'>{device_reasons}</ul>" if device_reasons else "")
                    + "</td>"
                    f"<td><ul style='margin:0'>{reasons}</ul></td></tr>")
    return ("<h2>Verdicts</h2><table style='border-collapse:collapse' border='1' cellpadding='4'>"
            "<tr><th>model</th><th>scaler</th><th>verdict</th><th>band codes</th>"
            "<th>recall float/device</th><th>device == host INT8</th><th>device</th><th>reasons</th></tr>"
            + "".join(rows) + "</table>")
