"""SQNR per layer as PNG bytes (matplotlib, Agg), as harness.suite.plots draws its figures.

``sqnr_per_layer([minmax_layers, robust_layers])``: x is the position in the op sequence, labelled
with the INT8 op index and name ("input", "CONV_2D #1", ...); y is the device INT8 tensor's SQNR
against float, one line per model; the dashed line is the lossy floor, and each model's jump
(harness.layers.judge) is marked with its drop.
"""

from __future__ import annotations

import io
import math

DPI = 72


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _finite(value: float, low: float, high: float) -> float:
    if math.isnan(value):
        return high
    return min(max(value, low), high)


def sqnr_per_layer(models, title: str | None = None) -> bytes:
    """``models``: harness.layers.judge.ModelLayers of the same network (same op sequence)."""
    from harness.layers.figures import FLOOR_DB
    plt = _pyplot()
    models = list(models)
    labels = [f.label for f in models[0].figures]
    figure, ax = plt.subplots(figsize=(max(6.0, 1.0 * len(labels) + 2), 3.8))
    low, high = -20.0, 60.0
    for model in models:
        x = [f.position + 1 for f in model.figures]
        y = [_finite(f.sqnr_db, low, high) for f in model.figures]
        line, = ax.plot(x, y, marker="o", label=f"{model.name} (device INT8 vs float)")
        jump = model.jump()
        if jump is not None:
            layer, drop = jump
            ax.annotate(f"{model.name}: -{drop:.1f} dB", (layer.position + 1, _finite(layer.sqnr_db, low, high)),
                        textcoords="offset points", xytext=(6, -14), color=line.get_color(), fontsize=8)
    ax.axhline(FLOOR_DB, color="grey", linestyle="--", linewidth=1)
    ax.text(0.0, FLOOR_DB + 0.8, f"{FLOOR_DB:g} dB", color="grey", fontsize=8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("SQNR vs float (dB)")
    windows = models[0].windows
    ax.set_title(title or f"SQNR per layer, {windows} window{'s' if windows != 1 else ''}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()
