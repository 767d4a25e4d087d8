"""What a suite run measures and where its lines are: window counts, seeds, band, thresholds.

One dataclass per concern, each with defaults a CI run can use; ``hil run`` and the pytest
plugin fill them from options (parametrize > command line > ini > default).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from harness.quant.metrics import DEFAULT_BAND_G, Band
from harness.quant.verdict import VerdictThresholds

DEFAULT_WINDOWS = 32               # per regime scenario (normal, pre_failure, impact, mixed)
DEFAULT_SWEEP_WINDOWS = 2          # per shock amplitude of the sweep (1..16 g)
DEFAULT_SEED = 7_000               # far from the training seeds (20240613 + k)
COUNTS_PER_G = 2048.0              # the default SensorModel: +-16 g over 16 bits
SWEEP_PEAKS_G = tuple(float(p) for p in range(1, 17))


@dataclass(frozen=True)
class SuiteThresholds:
    """Input-code thresholds (harness.quant.verdict) plus the output evidence.

    ``degraded_recall_drop`` / ``collapsed_recall_drop``: float recall minus device recall of the
    normal or pre-failure class (the larger of the two), pooled over the suite's windows.
    """

    input: VerdictThresholds = field(default_factory=VerdictThresholds)
    degraded_recall_drop: float = 0.10
    collapsed_recall_drop: float = 0.25

    def to_dict(self) -> dict:
        return {"input": asdict(self.input), "degraded_recall_drop": self.degraded_recall_drop,
                "collapsed_recall_drop": self.collapsed_recall_drop}


@dataclass(frozen=True)
class SuiteConfig:
    windows: int = DEFAULT_WINDOWS
    sweep_windows: int = DEFAULT_SWEEP_WINDOWS
    seed: int = DEFAULT_SEED
    band: Band = Band(*DEFAULT_BAND_G)
    thresholds: SuiteThresholds = field(default_factory=SuiteThresholds)
    counts_per_g: float = COUNTS_PER_G
    sweep_peaks_g: tuple[float, ...] = SWEEP_PEAKS_G

    def __post_init__(self):
        from harness.errors import ConfigError
        if self.windows < 3:
            raise ConfigError(f"windows per scenario must be >= 3 (one per class in 'mixed'), got {self.windows}")
        if self.sweep_windows < 1:
            raise ConfigError(f"sweep windows per amplitude must be >= 1, got {self.sweep_windows}")

    def to_dict(self) -> dict:
        return {"windows": self.windows, "sweep_windows": self.sweep_windows, "seed": self.seed,
                "band_g": [self.band.lo_g, self.band.hi_g], "thresholds": self.thresholds.to_dict(),
                "counts_per_g": self.counts_per_g, "sweep_peaks_g": list(self.sweep_peaks_g)}
