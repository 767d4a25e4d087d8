"""The scenario set every model is streamed through: labelled raw sensor windows.

Scenarios (``SCENARIOS``): ``normal``, ``pre_failure`` and ``impact`` hold windows of one regime;
``mixed`` interleaves all three (shuffled, as a stream of a container's day); ``shock_sweep``
holds impact windows with shocks of 1, 2, ..., 16 g.

The windows come from the model's own data recipe (harness.models.dataset with the DatasetConfig
recorded in its metadata: the harness.signals building blocks, the sensor model, the 8.13 g shock
shape) drawn with the suite's seeds, so they are fresh windows of the distribution the classifier
was trained on. harness.signals.synth.make_scenario traces are not used as they are: their
broadband noise (15 % of the envelope) is outside that distribution, and the float models
themselves recall only ~15 % of its normal windows (measured), which would make every
float-vs-device recall figure meaningless.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from harness.signals.counts import to_counts
from harness.errors import ConfigError
from harness.models.dataset import CLASSES, DatasetConfig, make_split

SCENARIOS = ("normal", "pre_failure", "impact", "mixed", "shock_sweep")
REGIMES = CLASSES   # ("normal", "pre_failure", "impact")


@dataclass(frozen=True)
class ScenarioWindows:
    """Raw windows of one scenario: ``counts`` (n, window_len, 3) int16 as the sensor reports them,
    ``g`` the same in g (counts / counts_per_g), ``labels`` indices into REGIMES, and the shock
    amplitude each window was built with (NaN for windows without a shock)."""

    name: str
    counts: np.ndarray
    labels: np.ndarray
    shock_peak_g: np.ndarray
    counts_per_g: float
    seed: int
    scored: bool = True    # False: the windows' labels are not ground truth (an injected outlier)

    @property
    def g(self) -> np.ndarray:
        return self.counts.astype(np.float64) / self.counts_per_g

    def __len__(self) -> int:
        return len(self.labels)

    def select(self, which) -> "ScenarioWindows":
        """The windows ``which`` picks (a boolean mask, index array or slice), same scenario."""
        return ScenarioWindows(self.name, self.counts[which], self.labels[which], self.shock_peak_g[which],
                               self.counts_per_g, self.seed, self.scored)


def _regime_windows(config: DatasetConfig, label: int, count: int, seed: int) -> np.ndarray:
    split = make_split(count, seed, config)
    return split.windows_g[split.labels == label]


def make_scenario_windows(name: str, dataset: DatasetConfig, windows: int, seed: int,
                          counts_per_g: float, sweep_peaks_g=(), sweep_windows: int = 1) -> ScenarioWindows:
    """``windows`` windows of scenario ``name`` (for ``shock_sweep``: ``sweep_windows`` per peak)."""
    impact = REGIMES.index("impact")
    if name in ("normal", "pre_failure", "impact"):
        label = REGIMES.index(name)
        g = _regime_windows(dataset, label, windows, seed)
        labels = np.full(len(g), label, dtype=np.int64)
    elif name == "mixed":
        split = make_split(math.ceil(windows / len(REGIMES)), seed, dataset)
        g, labels = split.windows_g[:windows], split.labels[:windows].astype(np.int64)
    elif name == "shock_sweep":
        if not sweep_peaks_g:
            raise ConfigError("shock_sweep needs at least one peak amplitude")
        parts = [_regime_windows(replace(dataset, outlier_peak_g=float(peak)), impact, sweep_windows,
                                 seed + k) for k, peak in enumerate(sweep_peaks_g)]
        g = np.concatenate(parts)
        labels = np.full(len(g), impact, dtype=np.int64)
        peaks = np.repeat(np.asarray(sweep_peaks_g, dtype=np.float64), sweep_windows)
        return ScenarioWindows(name, to_counts(g, counts_per_g), labels, peaks, counts_per_g, seed)
    else:
        raise ConfigError(f"unknown scenario '{name}'; known: {', '.join(SCENARIOS)}")
    peaks = np.where(labels == impact, dataset.outlier_peak_g, np.nan)
    return ScenarioWindows(name, to_counts(g, counts_per_g), labels, peaks, counts_per_g, seed)


def scenario_set(dataset: DatasetConfig, windows: int, seed: int, counts_per_g: float,
                 sweep_peaks_g, sweep_windows: int, names=SCENARIOS) -> list[ScenarioWindows]:
    """Every scenario of ``names``, each from its own seed (``seed`` + 1000 * position).

    A pure function of its arguments, so it is made once per run for all the models that share a
    recipe (the committed fixtures all do): the windows' arrays are read-only."""
    return list(_scenario_set(dataset, windows, seed, float(counts_per_g), tuple(float(p) for p in sweep_peaks_g),
                              sweep_windows, tuple(names)))


@functools.lru_cache(maxsize=8)
def _scenario_set(dataset: DatasetConfig, windows: int, seed: int, counts_per_g: float,
                  sweep_peaks_g: tuple, sweep_windows: int, names: tuple) -> tuple[ScenarioWindows, ...]:
    made = tuple(make_scenario_windows(name, dataset, windows, seed + 1000 * SCENARIOS.index(name), counts_per_g,
                                       sweep_peaks_g, sweep_windows) for name in names)
    for scenario in made:
        for array in (scenario.counts, scenario.labels, scenario.shock_peak_g):
            array.setflags(write=False)
    return made
