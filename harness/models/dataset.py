"""Labelled windows for training and scoring, and the calibration set with its 8.13 g shock.

Everything comes from ``harness.signals`` scenarios and is a pure function of the seeds: the same
:class:`DatasetConfig` gives the same arrays, with or without TensorFlow installed (``hil models``
rebuilds the held-out set from the seed recorded in the metadata).

* train / val / held-out: balanced windows of each class (normal, pre-failure, impact), each split
  from its own seed, so the held-out set does not depend on how many training windows there are.
* calibration: what a field team would record to fit the scaler and calibrate INT8 - steady
  operation (normal windows) plus windows holding an 8.13 g shock, as in the field report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from harness.errors import ConfigError
from harness.signals.counts import DEFAULT_COUNTS_PER_G, DEFAULT_FULL_SCALE_G

CLASSES = ("normal", "pre_failure", "impact")
#: the classes outlier-squeezed inputs lose: their recall is what the suite judges
WATCHED_CLASSES = ("normal", "pre_failure")
#: the recipe's sensor, as a bundle's ``sensor`` section: +-16 g over 16 bits, 3 axes
CONTAINER_SENSOR = {"axes": ["ax_g", "ay_g", "az_g"], "rate_hz": 1600.0, "counts_per_g": DEFAULT_COUNTS_PER_G,
                    "full_scale_g": DEFAULT_FULL_SCALE_G, "units": "g"}


@dataclass(frozen=True)
class DatasetConfig:
    seed: int = 20240613
    train_per_class: int = 1200
    val_per_class: int = 100
    held_out_per_class: int = 200
    calibration_windows: int = 128       # steady operation, plus the shock windows below
    calibration_shocks: int = 3          # one 8.13 g shock along each axis
    outlier_peak_g: float = 8.13
    # The bearing defect at the end of its growth: 0.04 g, under 3 % of the band's 1.5 g top.
    defect_peak_g: float = 0.04
    # Broadband vibration noise, as a fraction of the envelope's peak. harness.signals' scenarios
    # use 0.15; that floor (up to 0.075 g rms on x) lies above the 0.039 g step of the
    # outlier-squeezed min-max input, dithers it, and INT8 then costs min-max almost nothing: the
    # defect is lost in float and INT8 alike. At 0.02 the float model resolves the defect and the
    # min-max INT8 input does not, which is the field report's situation.
    noise_fraction: float = 0.02
    window_len: int = 128
    rate_hz: float = 1600.0

    @property
    def held_out_seed(self) -> int:
        return self.seed + 3

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Split:
    windows_g: np.ndarray      # (n, window_len, 3) float32, acceleration in g
    labels: np.ndarray         # (n,) int64 indices into CLASSES

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Dataset:
    config: DatasetConfig
    classes: tuple[str, ...]
    train: Split
    val: Split
    held_out: Split
    calibration_g: np.ndarray  # (n_windows, window_len, 3), contains the shock

    @property
    def window_len(self) -> int:
        return self.config.window_len

    @property
    def rate_hz(self) -> float:
        return self.config.rate_hz

    def calibration_summary(self) -> dict:
        peak = np.abs(self.calibration_g).max(axis=(1, 2))
        return {"windows": int(len(self.calibration_g)),
                "shock_windows": int(self.config.calibration_shocks),
                "outlier_peak_g": float(self.config.outlier_peak_g),
                "max_abs_g": round(float(peak.max()), 6),
                "median_window_peak_g": round(float(np.median(peak)), 6)}

    def describe(self) -> str:
        return (f"train {len(self.train)}, val {len(self.val)}, held-out {len(self.held_out)} "
                f"windows of {self.window_len} samples at {self.rate_hz:g} Hz; calibration "
                f"{len(self.calibration_g)} windows, max |g| {np.abs(self.calibration_g).max():.2f}")


# Each run has its own tone weights, phases and envelope: a "recording". Taking a few windows from
# many runs (not many windows from a few) makes the classifier learn the defect, not the
# recordings: with 100 windows per run it memorised each run's tone mix and held-out accuracy fell
# to chance. An 8 s run lets the envelope sweep the 0.2-1.5 g band (its knots are 8 s apart).
_RUN_S = 8.0
_WINDOWS_PER_RUN = 4
# Pre-failure windows come from the second half of the defect's growth (defect >= 50 % of its
# peak). Earlier windows carry the label but a defect that has barely started: no model, float or
# INT8, can tell them from normal, and they would hide the effect being measured.
_DEFECT_MIN_GROWTH = 0.5
# As harness.signals.synth.steady_vibration: peak vibration per axis relative to the envelope,
# gravity (+1 g) on z.
_AXIS_GAIN = (1.0, 0.8, 0.5)
_GRAVITY_AXIS = 2


def _steady_g(n: int, rng: np.random.Generator, config: DatasetConfig) -> np.ndarray:
    """Steady vibration from harness.signals' building blocks, with its broadband noise set by
    ``config.noise_fraction``.

    This is steady_vibration's recipe (envelope x tone mix x axis gain + gravity; its 10-minute
    drift of 0.01 g is a constant within an 80 ms window and is left out) because steady_vibration
    does not take the noise fraction: its tone mix fixes it at 15 % of the peak, a noise floor
    above the INT8 step of the outlier-squeezed min-max input (see DatasetConfig.noise_fraction).
    """
    from harness.signals.synth import envelope, tone_mix
    env = envelope(n, config.rate_hz, rng)
    g = (tone_mix(n, config.rate_hz, rng, noise_fraction=config.noise_fraction)
         * env[:, None] * np.asarray(_AXIS_GAIN)[None, :])
    g[:, _GRAVITY_AXIS] += 1.0
    return g


def _measured_windows(g: np.ndarray, rng: np.random.Generator, config: DatasetConfig
                      ) -> np.ndarray:
    """Through the default sensor (+-16 g, 16 bit, 150 ug/sqrt(Hz)), cut into windows."""
    from harness.signals.synth import SensorModel
    measured, _ = SensorModel().measure(g, config.rate_hz, rng)
    count = len(measured) // config.window_len
    return measured[:count * config.window_len].reshape(count, config.window_len, 3)


def _sample_runs(count: int, seed: int, config: DatasetConfig,
                 run: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
                 ) -> np.ndarray:
    """``run(rng, n_samples) -> (windows, eligible mask)`` for fresh run generators; keep
    ``_WINDOWS_PER_RUN`` random eligible windows of each run until there are ``count``."""
    seeds = np.random.SeedSequence(seed)
    n = int(_RUN_S * config.rate_hz)
    out, total = [], 0
    while total < count:
        rng = np.random.default_rng(seeds.spawn(1)[0])
        windows, eligible = run(rng, n)
        index = np.flatnonzero(eligible)
        take = rng.choice(index, size=min(_WINDOWS_PER_RUN, len(index), count - total),
                          replace=False)
        out.append(windows[np.sort(take)])
        total += len(take)
    return np.concatenate(out)


def _normal_windows(count: int, seed: int, config: DatasetConfig) -> np.ndarray:
    def run(rng, n):
        windows = _measured_windows(_steady_g(n, rng, config), rng, config)
        return windows, np.ones(len(windows), dtype=bool)

    return _sample_runs(count, seed, config, run)


def _pre_failure_windows(count: int, seed: int, config: DatasetConfig) -> np.ndarray:
    """Steady vibration plus harness.signals' bearing-defect signature (a tone at 157.3 Hz with
    2nd and 3rd harmonics, amplitude-modulated at the shaft rate) growing from a third of the run
    to ``defect_peak_g``."""
    from harness.signals.synth import defect_signature

    def run(rng, n):
        onset = n // 3
        g = _steady_g(n, rng, config) + defect_signature(n, config.rate_hz, onset,
                                                          config.defect_peak_g)
        windows = _measured_windows(g, rng, config)
        window_end = (np.arange(len(windows)) + 1) * config.window_len
        growth = (window_end - onset) / (n - onset)
        return windows, growth >= _DEFECT_MIN_GROWTH

    return _sample_runs(count, seed, config, run)


def _impact_windows(count: int, seed: int, config: DatasetConfig) -> np.ndarray:
    """Steady vibration with one whole shock in each chosen window: harness.signals' half-sine
    and terminal-peak sawtooth pulses in turn, 6-11 ms, ``outlier_peak_g``, vertical."""
    from harness.signals.synth import SHOCK_SHAPES, Shock, add_shocks
    margin = 24   # samples: room for an 11 ms pulse (18 samples at 1.6 kHz) plus slack

    def run(rng, n):
        windows_per_run = n // config.window_len
        chosen = np.sort(rng.choice(windows_per_run, _WINDOWS_PER_RUN, replace=False))
        offsets = rng.integers(4, config.window_len - margin, len(chosen))
        durations_ms = rng.uniform(6.0, 11.0, len(chosen))
        shocks = [Shock(time_s=float((k * config.window_len + o) / config.rate_hz),
                        peak_g=config.outlier_peak_g, duration_ms=float(d),
                        shape=SHOCK_SHAPES[i % len(SHOCK_SHAPES)])
                  for i, (k, o, d) in enumerate(zip(chosen, offsets, durations_ms))]
        g, _ = add_shocks(_steady_g(n, rng, config), config.rate_hz, shocks)
        windows = _measured_windows(g, rng, config)
        eligible = np.zeros(len(windows), dtype=bool)
        eligible[chosen] = True
        return windows, eligible

    return _sample_runs(count, seed, config, run)


_GENERATORS = {0: _normal_windows, 1: _pre_failure_windows, 2: _impact_windows}


def _class_windows(label: int, count: int, seed: int, config: DatasetConfig) -> np.ndarray:
    """``count`` windows of class ``label`` (g), from harness.signals scenarios."""
    windows = _GENERATORS[label](count, seed, config)
    if len(windows) < count:
        raise ConfigError(f"could only make {len(windows)} {CLASSES[label]} windows of {count}")
    return windows


def calibration_windows(config: DatasetConfig) -> np.ndarray:
    """Steady operation plus the shock: what the field team calibrated with.

    The shock windows are normal windows with one ``outlier_peak_g`` half-sine added, along x, y
    and z in turn (the min-max scaler is per axis, so a shock on one axis only squeezes that
    axis; a container knocked during loading takes hits from several sides).
    """
    from harness.signals.synth import Shock, add_shocks
    steady = _normal_windows(config.calibration_windows + config.calibration_shocks,
                             config.seed + 4, config)
    calibration, shock_bases = steady[:config.calibration_windows], steady[config.calibration_windows:]
    shocked = []
    for index, base in enumerate(shock_bases):
        direction = [0.0, 0.0, 0.0]
        direction[index % 3] = 1.0
        shock = Shock(time_s=40 / config.rate_hz, peak_g=config.outlier_peak_g, duration_ms=8.0,
                      shape="half_sine", direction=tuple(direction))
        shocked.append(add_shocks(base, config.rate_hz, [shock])[0])
    return np.concatenate([calibration, np.stack(shocked)]) if shocked else calibration


def make_split(per_class: int, seed: int, config: DatasetConfig) -> Split:
    """``per_class`` windows of every class, shuffled; deterministic in ``seed``."""
    if per_class < 1:
        raise ConfigError(f"need at least one window per class, got {per_class}")
    seeds = np.random.SeedSequence(seed).generate_state(len(CLASSES))
    windows = [_class_windows(label, per_class, int(seeds[label]), config)
               for label in range(len(CLASSES))]
    labels = np.repeat(np.arange(len(CLASSES), dtype=np.int64), per_class)
    order = np.random.default_rng(seed).permutation(len(labels))
    return Split(np.concatenate(windows)[order].astype(np.float32), labels[order])


def make_held_out(config: DatasetConfig = DatasetConfig()) -> Split:
    return make_split(config.held_out_per_class, config.held_out_seed, config)


def make_dataset(config: DatasetConfig = DatasetConfig()) -> Dataset:
    return Dataset(
        config=config,
        classes=CLASSES,
        train=make_split(config.train_per_class, config.seed + 1, config),
        val=make_split(config.val_per_class, config.seed + 2, config),
        held_out=make_held_out(config),
        calibration_g=calibration_windows(config).astype(np.float32),
    )
