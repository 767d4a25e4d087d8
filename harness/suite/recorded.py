"""Scenarios from a team's own labelled recordings (a bundle's ``data.recordings``).

* ``recorded``: windows of the recordings (the bundle's window length and hop) whose samples carry
  one label, up to ``windows`` per class, evenly spread over each class's windows, in time order.
* ``drift``: the same windows through a sensor whose gain and offset drifted (gain 0.9-1.1 and
  offset -0.05..0.05 g per axis, seeded; typical MEMS zero-g offsets are tens of mg). Whether the
  model should still classify them is a property of the model, not of its quantization, so they
  are not scored: their figures (float vs device agreement) are reported per scenario.
* ``outlier_sweep``: windows with one shock injected (a half-sine of 3 samples on one axis) of
  1, 2, ..., 16 g and the sensor's full scale, ``sweep_windows`` per amplitude. What the window
  should then be called is the team's question, not ours: these windows are not scored (no
  recall, no verdict), they give the error-vs-amplitude figures.
"""

from __future__ import annotations

import numpy as np

from harness.bundle.recordings import read_recording, uniform_windows
from harness.signals.counts import to_counts
from harness.errors import BundleError
from harness.suite.scenarios import ScenarioWindows

RECORDED_SCENARIOS = ("recorded", "drift", "outlier_sweep")
DRIFT_GAIN = 0.10          # +-10 % sensitivity
DRIFT_OFFSET_G = 0.05      # +-0.05 g zero-g offset
SHOCK_SAMPLES = 3


def recording_windows(model) -> tuple[np.ndarray, np.ndarray]:
    """Every clean window of every recording: (windows in g, label index)."""
    spec = model.bundle.spec
    windows, labels = [], []
    for recording in spec.data.recordings:
        data = read_recording(recording, spec.sensor, model.classes)
        w, y, _ = uniform_windows(data, model.window_len, spec.window_hop, model.classes)
        windows.append(w)
        labels.append(y)
    g = np.concatenate(windows) if windows else np.zeros((0, model.window_len, len(spec.sensor.axes)))
    y = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)
    if len(y) == 0:
        raise BundleError("give no window whose samples carry one label (window length "
                          f"{model.window_len}, hop {spec.window_hop})", str(model.bundle.json_path), "data.recordings")
    return g, y


def _spread(indices: np.ndarray, count: int) -> np.ndarray:
    """``count`` of ``indices`` evenly spread (all of them when there are fewer)."""
    if len(indices) <= count:
        return indices
    return indices[np.linspace(0, len(indices) - 1, count).round().astype(int)]


def select_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    chosen = [_spread(np.flatnonzero(labels == c), per_class) for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def inject_shock(window_g: np.ndarray, peak_g: float, axis: int, start: int, full_scale_g: float) -> np.ndarray:
    pulse = peak_g * np.sin(np.pi * (np.arange(SHOCK_SAMPLES) + 0.5) / SHOCK_SAMPLES)
    out = window_g.copy()
    end = min(start + SHOCK_SAMPLES, len(out))
    out[start:end, axis] += pulse[:end - start]
    return np.clip(out, -full_scale_g, full_scale_g)


def recorded_scenarios(model, windows: int, seed: int, sweep_peaks_g, sweep_windows: int,
                       names=RECORDED_SCENARIOS) -> list[ScenarioWindows]:
    spec = model.bundle.spec
    counts_per_g = spec.sensor.counts_per_g
    g, labels = recording_windows(model)
    chosen = select_per_class(labels, windows)
    base_g, base_labels = g[chosen], labels[chosen]
    out = []
    for position, name in enumerate(names):
        rng = np.random.default_rng(seed + 1000 * position)
        if name == "recorded":
            out.append(ScenarioWindows(name, to_counts(base_g, counts_per_g), base_labels,
                                       np.full(len(base_labels), np.nan), counts_per_g, seed))
        elif name == "drift":
            axes = base_g.shape[-1]
            gain = 1.0 + rng.uniform(-DRIFT_GAIN, DRIFT_GAIN, size=(len(base_g), 1, axes))
            offset = rng.uniform(-DRIFT_OFFSET_G, DRIFT_OFFSET_G, size=(len(base_g), 1, axes))
            drifted = np.clip(base_g * gain + offset, -spec.sensor.full_scale_g, spec.sensor.full_scale_g)
            out.append(ScenarioWindows(name, to_counts(drifted, counts_per_g), base_labels,
                                       np.full(len(base_labels), np.nan), counts_per_g, seed + 1000 * position,
                                       scored=False))
        elif name == "outlier_sweep":
            peaks = sorted(set(float(p) for p in sweep_peaks_g if p < spec.sensor.full_scale_g)
                           | {float(spec.sensor.full_scale_g)})
            picks = rng.choice(len(base_g), size=len(peaks) * sweep_windows, replace=len(base_g) < len(peaks) * sweep_windows)
            shocked, peak_of = [], []
            for k, pick in enumerate(picks):
                peak = peaks[k // sweep_windows]
                axis = int(rng.integers(base_g.shape[-1]))
                start = int(rng.integers(0, model.window_len - SHOCK_SAMPLES + 1))
                shocked.append(inject_shock(base_g[pick], peak, axis, start, spec.sensor.full_scale_g))
                peak_of.append(peak)
            out.append(ScenarioWindows(name, to_counts(np.stack(shocked), counts_per_g), base_labels[picks],
                                       np.asarray(peak_of), counts_per_g, seed + 1000 * position, scored=False))
        else:
            raise BundleError(f"unknown scenario '{name}' for recorded data; known: {', '.join(RECORDED_SCENARIOS)}")
    return out
