"""Report figures as PNG bytes (matplotlib, Agg): each takes a ModelRun and its ModelReport.

* ``code_histograms``: per regime, the device's input codes on the band's worst axis against the
  float-scaled input (the scaler's output in code units, before rounding): the collapse is visible
  as a few tall bars where the float input is spread.
* ``confusion_matrices``: float vs device, all windows of the run.
* ``misclassified_traces``: windows the device gets wrong (float right first), raw g per axis.
* ``error_vs_amplitude``: the shock sweep: impact recall float/device, output MAE and input
  saturation per shock peak.
"""

from __future__ import annotations

import io

import numpy as np


DPI = 72


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(figure) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _axis_index(name: str) -> int:
    from harness.quant.scalers import AXIS_NAMES
    return AXIS_NAMES.index(name) if name in AXIS_NAMES else 0


def code_histograms(run, report) -> bytes:
    plt = _pyplot()
    model = run.model
    axis = _axis_index(report.band.worst_axis)
    channel = int(np.flatnonzero(model.scaler.source_axis == axis)[0])
    labels = run.labels
    g = run.g
    codes = run.pooled("device_input_codes")
    params = model.input_params
    band = report.band.band
    classes = model.classes
    figure, axes = plt.subplots(1, len(classes), figsize=(3.3 * max(3, len(classes)) + 3, 3.2), squeeze=False)
    for index, (regime, ax) in enumerate(zip(classes, axes[0])):
        mask = labels == index
        if not mask.any():
            ax.set_title(f"{regime}: no windows")
            continue
        values = g[mask][..., axis].ravel()
        in_band = band.contains(values)
        device = codes[mask][..., channel].ravel()[in_band].astype(int)
        scaled = model.scaler.transform(g[mask].reshape(-1, g.shape[-1]))[:, channel][in_band]
        float_codes = scaled / float(np.float32(params.scale)) + params.zero_point
        distinct = len(np.unique(device))
        # the whole int8 range on x: a squeezed band is a narrow spike, a healthy one spreads
        if not in_band.any():
            ax.set_title(f"{regime}: no sample in {band}", fontsize=10)
            continue
        # one bin per code over int8's 256; over int16's 65536 (16x8) 1024 bins, each 64 codes wide
        per_bin = max(1, params.levels // 1024)
        ax.hist(float_codes, bins=np.linspace(params.qmin - 0.5, params.qmax + 0.5, min(4 * params.levels, 1024) + 1),
                density=True, histtype="stepfilled", color="#9ecae1", label="float-scaled input (code units)")
        ax.hist(device, bins=np.arange(params.qmin - 0.5, params.qmax + 1.5, per_bin), density=True, histtype="step",
                color="#d62728", linewidth=1.2,
                label=f"device codes ({distinct} distinct)" + (f", {per_bin} per bin" if per_bin > 1 else ""))
        ax.set_xlim(params.qmin - 1, params.qmax + 1)
        ax.set_title(f"{regime}: {report.band.worst_axis} in {band}: {distinct} of {params.levels} codes",
                     fontsize=10)
        ax.set_xlabel("input code")
        ax.legend(fontsize=7, loc="upper right")
    figure.suptitle(f"{model.name} ({model.scaler_label}, {model.method}): input codes per regime, device vs float",
                    fontsize=11, y=1.03)
    return _png(figure)


def confusion_matrices(run, report) -> bytes:
    plt = _pyplot()
    classes = run.model.classes
    figure, axes = plt.subplots(1, 2, figsize=(8.5, 3.6))
    for ax, (title, key) in zip(axes, (("float", "confusion_float"), ("device INT8", "confusion_device"))):
        if report.outputs[key] is None:
            ax.set_title(f"{title}: no float reference", fontsize=10)
            ax.axis("off")
            continue
        matrix = np.asarray(report.outputs[key])
        ax.imshow(matrix, cmap="Blues")
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, str(count), ha="center", va="center",
                    color="white" if count > matrix.max() / 2 else "black")
        ax.set_xticks(range(len(classes)), classes, fontsize=8)
        ax.set_yticks(range(len(classes)), classes, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{title}: accuracy {report.outputs['accuracy_' + key.split('_')[1]]:.2f}", fontsize=10)
    figure.suptitle(f"{run.model.name}: confusion matrices over {report.outputs['windows']} windows", fontsize=11)
    return _png(figure)


def misclassified_traces(run, report, limit: int = 4) -> bytes | None:
    plt = _pyplot()
    classes = run.model.classes
    labels = run.labels
    device = run.pooled("device_outputs").argmax(axis=1)
    float_argmax = run.pooled("float_scores").argmax(axis=1)
    wrong = np.flatnonzero(device != labels)
    if not wrong.size:
        return None
    order = wrong[np.argsort(float_argmax[wrong] != labels[wrong], kind="stable")][:limit]
    names = np.concatenate([[s.name] * len(s.scenario) for s in run.scenarios])
    starts = np.cumsum([0] + [len(s.scenario) for s in run.scenarios])
    g = run.g
    figure, axes = plt.subplots(1, len(order), figsize=(3.4 * len(order), 2.8), squeeze=False)
    rate = run.model.spec.sensor.rate_hz
    for ax, index in zip(axes[0], order):
        t_ms = np.arange(g.shape[1]) / rate * 1e3
        for a, name in enumerate(run.model.spec.sensor.axes):
            ax.plot(t_ms, g[index][:, a], linewidth=0.8, label=name)
        scenario = names[index]
        local = index - starts[list(dict.fromkeys(names)).index(scenario)]
        said_float = "" if run.model.float_reference is None else f", float {classes[float_argmax[index]]}"
        ax.set_title(f"{scenario}[{local}] true {classes[labels[index]]}\ndevice {classes[device[index]]}{said_float}",
                     fontsize=8)
        ax.set_xlabel("ms")
        ax.set_ylabel("g")
        ax.legend(fontsize=6)
    figure.suptitle(f"{run.model.name}: windows the device misclassifies ({wrong.size} of {len(labels)})",
                    fontsize=11)
    return _png(figure)


def error_vs_amplitude(run, report) -> bytes | None:
    rows = report.by_amplitude
    if not rows:
        return None
    plt = _pyplot()
    peaks = [r["peak_g"] for r in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    left.plot(peaks, [r["recall_float"] for r in rows], "o-", label="float recall (window's label)")
    left.plot(peaks, [r["recall_device"] for r in rows], "s--", label="device recall (window's label)")
    left.set_xlabel("shock peak (g)")
    left.set_ylim(-0.05, 1.05)
    left.legend(fontsize=8)
    right.plot(peaks, [r["mae"] for r in rows], "o-", color="#d62728", label="output MAE device vs float")
    right.plot(peaks, [r["saturation_rate"] for r in rows], "^-", color="#7f7f7f",
               label="input samples saturated (share)")
    right.set_xlabel("shock peak (g)")
    right.legend(fontsize=8)
    figure.suptitle(f"{run.model.name}: outlier-amplitude sweep {min(peaks):g}-{max(peaks):g} g", fontsize=11)
    return _png(figure)


FIGURES = {"code histograms": code_histograms, "confusion matrices": confusion_matrices,
           "misclassified windows": misclassified_traces, "error vs shock amplitude": error_vs_amplitude}

