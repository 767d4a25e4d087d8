"""The replay report: ``report.json`` (summary and every disagreeing window), ``report.md`` and
PNG plots (a timeline, and each of the first disagreeing windows: g per axis and the INT8 input
codes the model saw).

Everything in ``report.json`` derives from the triage journal, the recording and the device
replay, so an interrupted-and-resumed replay writes the same file as an uninterrupted one;
timings go to ``run.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from harness.errors import TraceError

REPORT_FORMAT = 1


def episodes(disagreements: list, window_s: float, join_windows: int = 12) -> list[dict]:
    """Runs of disagreeing windows, at most ``join_windows`` apart (12 windows, about a second:
    an episode of collapsed normal vibration has some windows INT8 still gets right)."""
    out: list[dict] = []
    for d in disagreements:
        if out and d["index"] - out[-1]["last_index"] <= join_windows:
            out[-1]["last_index"] = d["index"]
            out[-1]["stop_s"] = round(d["start_s"] + window_s, 6)
            out[-1]["windows"] += 1
            out[-1]["kinds"][f"{d['float_class']}->{d['int8_class']}"] += 1
        else:
            out.append({"first_index": d["index"], "last_index": d["index"],
                        "start_s": round(d["start_s"], 6), "stop_s": round(d["start_s"] + window_s, 6),
                        "windows": 1, "kinds": Counter({f"{d['float_class']}->{d['int8_class']}": 1})})
    for e in out:
        e["kinds"] = dict(sorted(e["kinds"].items()))
    return out


def wrong_side(entry: dict) -> str | None:
    """Which reference the recording's own label says is wrong: "int8", "float", "both", or
    None when the recording has no labels."""
    label = entry.get("label")
    if label is None:
        return None
    if label == entry["float_class"]:
        return "int8"
    return "float" if label == entry["int8_class"] else "both"


def window_collapse(triage, window_g: np.ndarray) -> dict | None:
    """Collapse metrics (harness.quant.metrics) and verdict of one window's 0.2-1.5 g band."""
    from harness.quant.metrics import band_metrics
    from harness.quant.verdict import judge
    try:
        metrics = band_metrics(triage.bundle.scaler, triage.input_params, window_g)
    except TraceError:
        return None  # no sample of the window lies in the band
    verdict = judge(metrics)
    return {"codes_used": metrics.codes_used, "effective_bits": round(metrics.effective_bits, 4),
            "g_per_code": round(metrics.g_per_code, 6),
            "sqnr_db": None if metrics.sqnr_db is None else round(metrics.sqnr_db, 3),
            "saturation_rate": round(metrics.saturation_rate, 6), "worst_axis": metrics.worst_axis,
            "verdict": verdict.status}


def build_report(outcome, triage, windows_g: dict, confirmation, chosen: dict) -> dict:
    window_s = triage.window_len / triage.rate_hz
    rows = []
    for d in outcome.disagreements:
        entry = {k: d[k] for k in ("index", "start_s", "start_row", "float_class", "int8_class", "label",
                                   "float_scores", "int8_codes")}
        entry["wrong"] = wrong_side(d)
        g = windows_g.get(d["index"])
        entry["collapse"] = window_collapse(triage, g) if g is not None else None
        rows.append(entry)
    kinds = Counter(f"{d['float_class']}->{d['int8_class']}" for d in outcome.disagreements)
    by_label = Counter(str(d["label"]) for d in outcome.disagreements)
    wrong = Counter(str(wrong_side(d)) for d in outcome.disagreements)
    n = len(outcome.float_class)
    duration_s = float(outcome.start_s[-1] + window_s - outcome.start_s[0]) if n else 0.0
    hours = np.floor((np.array([d["start_s"] for d in outcome.disagreements]) - (outcome.start_s[0] if n else 0))
                     / 3600.0).astype(int) if outcome.disagreements else np.empty(0, int)
    return {
        "format": REPORT_FORMAT,
        "trace": outcome.header["trace"], "model": outcome.header["model"],
        "params": outcome.header["params"], "fingerprint": outcome.fingerprint,
        "summary": {
            "rows": outcome.rows, "windows": n, "duration_s": round(duration_s, 6),
            "disagreeing_windows": len(outcome.disagreements),
            "disagreeing_fraction": round(len(outcome.disagreements) / n, 9) if n else 0.0,
            "kinds": dict(sorted(kinds.items())), "by_recording_label": dict(sorted(by_label.items())),
            "wrong_by_label": dict(sorted(wrong.items())),
            "per_hour": {str(h): int(c) for h, c in sorted(Counter(hours.tolist()).items())},
            "float_classes": {triage.classes[c]: int(k) for c, k in
                              enumerate(np.bincount(outcome.float_class, minlength=len(triage.classes)))},
            "int8_classes": {triage.classes[c]: int(k) for c, k in
                             enumerate(np.bincount(outcome.int8_class, minlength=len(triage.classes)))},
            "episodes": episodes(outcome.disagreements, window_s),
            "dropped": outcome.dropped,
        },
        "device": None if confirmation is None else {**confirmation.to_dict(), "chosen": chosen},
        "disagreements": rows,
    }


def _plot_window(path: Path, triage, entry: dict, g: np.ndarray):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    codes = triage.input_codes(triage.counts(g[None]))[0]
    t_ms = np.arange(len(g)) / triage.rate_hz * 1000.0
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.5), sharex=True)
    for axis, name in enumerate(("x", "y", "z")):
        top.plot(t_ms, g[:, axis], lw=0.8, label=name)
        bottom.step(t_ms, codes[:, axis], lw=0.8, where="mid", label=name)
    top.set_ylabel("g")
    top.legend(loc="upper right", fontsize=7)
    top.set_title(f"window {entry['index']} at {entry['start_s']:.3f} s: float {entry['float_class']}, "
                  f"INT8 {entry['int8_class']}", fontsize=9)
    bottom.set_ylabel("INT8 input code")
    bottom.set_xlabel("ms in window")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _plot_timeline(path: Path, outcome, triage):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 2.5))
    starts = np.array([d["start_s"] for d in outcome.disagreements])
    if len(outcome.start_s):
        bins = np.linspace(outcome.start_s[0], outcome.start_s[-1] + 1e-9, 200)
        ax.hist(starts, bins=bins, color="tab:red")
    ax.set_xlabel("recording time, s")
    ax.set_ylabel("disagreeing windows")
    ax.set_title(f"{triage.name}: float vs host INT8, {len(starts)} of {len(outcome.float_class)} windows",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_report(out_dir, report: dict, outcome, triage, windows_g: dict, max_plots: int = 12,
                 run_info: dict | None = None) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    if run_info is not None:
        (out / "run.json").write_text(json.dumps(run_info, indent=1, sort_keys=True) + "\n")
    _plot_timeline(out / "timeline.png", outcome, triage)
    plotted = []
    for entry in report["disagreements"][:max_plots]:
        g = windows_g.get(entry["index"])
        if g is not None:
            name = f"window-{entry['index']}.png"
            _plot_window(out / name, triage, entry, g)
            plotted.append((entry["index"], name))
    s = report["summary"]
    lines = [f"# Replay of {report['trace']['name']} with {report['model']['name']}", "",
             f"- windows: {s['windows']:,} ({s['duration_s']:.1f} s, {s['rows']:,} rows)",
             f"- float vs host INT8 disagree on {s['disagreeing_windows']:,} windows "
             f"({100 * s['disagreeing_fraction']:.3f} %): " +
             (", ".join(f"{k} x{v}" for k, v in s["kinds"].items()) or "none"),
             f"- episodes (runs of disagreeing windows): {len(s['episodes'])}",
             f"- samples replayed in no window: {len(s['dropped'])} stretch(es)"]
    device = report["device"]
    if device is not None:
        lines.append(f"- device: {device['outputs_equal']}/{device['windows']} windows give the host INT8 "
                     f"output codes; input codes {'equal' if device['mirror_equal'] else 'DIFFER from'} "
                     "the host mirror")
        for fault in device.get("device_faults", []):
            lines.append(f"- device: window {fault['index']} is a DEVICE FAULT ({fault['kind']}, failed again after a "
                         f"reset; not compared): {fault['error']}")
    lines += ["", "![timeline](timeline.png)", "", "## Episodes", "",
              "| start s | stop s | windows | kinds |", "|---|---|---|---|"]
    lines += [f"| {e['start_s']:.3f} | {e['stop_s']:.3f} | {e['windows']} | "
              f"{', '.join(f'{k} x{v}' for k, v in e['kinds'].items())} |" for e in s["episodes"]]
    lines += ["", "## Disagreeing windows", "",
              "| window | start s | row | label | float | INT8 | wrong | band codes | bits | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for entry in report["disagreements"][:200]:
        c = entry["collapse"] or {}
        lines.append(f"| {entry['index']} | {entry['start_s']:.3f} | {entry['start_row']} | {entry['label']} | "
                     f"{entry['float_class']} | {entry['int8_class']} | {entry['wrong'] or '-'} | {c.get('codes_used', '-')} | "
                     f"{c.get('effective_bits', '-')} | {c.get('verdict', '-')} |")
    if len(report["disagreements"]) > 200:
        lines.append(f"| ... {len(report['disagreements']) - 200} more in report.json | | | | | | | | | |")
    lines += [""] + [f"![window {i}]({name})" for i, name in plotted]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return out / "report.md"
