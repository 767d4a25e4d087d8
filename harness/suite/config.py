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
DEFAULT_WINDOW_TIMEOUT_S = 10.0    # a window not answered by then: the device is hung (reset, retry)


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
    window_timeout_s: float = DEFAULT_WINDOW_TIMEOUT_S
    inject_fault: str = ""   # harness.device.recovery.parse_injection, e.g. "hang@mixed:5"

    def __post_init__(self):
        from harness.errors import ConfigError
        if self.windows < 3:
            raise ConfigError(f"windows per scenario must be >= 3 (one per class in 'mixed'), got {self.windows}")
        if self.sweep_windows < 1:
            raise ConfigError(f"sweep windows per amplitude must be >= 1, got {self.sweep_windows}")
        if not self.window_timeout_s > 0:
            raise ConfigError(f"window timeout must be > 0 s, got {self.window_timeout_s}")
        from harness.device.recovery import parse_injection
        parse_injection(self.inject_fault)   # ConfigError naming the problem

    def to_dict(self) -> dict:
        return {"windows": self.windows, "sweep_windows": self.sweep_windows, "seed": self.seed,
                "band_g": [self.band.lo_g, self.band.hi_g], "thresholds": self.thresholds.to_dict(),
                "counts_per_g": self.counts_per_g, "sweep_peaks_g": list(self.sweep_peaks_g),
                "window_timeout_s": self.window_timeout_s, "inject_fault": self.inject_fault}


# name: (default, help) - the options the pytest plugin (--hil-NAME, ini hil_NAME) and hil run share
OPTIONS = {
    "models": ("", "models the suite runs, comma-separated (default: all of the models folder)"),
    "models_dir": ("", "folder of <name>.json model bundles (default: fixtures/models)"),
    "windows": (str(DEFAULT_WINDOWS), "windows per scenario (normal, pre_failure, impact, mixed)"),
    "sweep_windows": (str(DEFAULT_SWEEP_WINDOWS), "windows per shock amplitude of the 1-16 g sweep"),
    "seed": (str(DEFAULT_SEED), "seed of the suite's scenario windows"),
    "band": ("0.2:1.5", "band of interest in g, LO:HI"),
    "collapsed_bits": (str(VerdictThresholds.collapsed_bits), "input codes: COLLAPSED below this many bits"),
    "degraded_bits": (str(VerdictThresholds.degraded_bits), "input codes: DEGRADED below this many bits"),
    "collapsed_recall_drop": (str(SuiteThresholds.collapsed_recall_drop),
                              "outputs: COLLAPSED from this float-minus-device recall drop"),
    "degraded_recall_drop": (str(SuiteThresholds.degraded_recall_drop),
                             "outputs: DEGRADED from this float-minus-device recall drop"),
    "window_timeout": (str(DEFAULT_WINDOW_TIMEOUT_S), "seconds a window may take before the device counts as "
                       "hung: it is reset and the window retried once, then recorded as a DEVICE FAULT"),
    "inject_fault": ("", "test the device-fault path on this bench (test-only FAULT_ARM request): "
                     "MODE@[SCENARIO:]WINDOW[:persistent], MODE hang or crash, e.g. hang@mixed:5"),
    "suite_out": ("", "directory for the suite's windows.parquet/.csv, input_codes.npz and summary.json"),
    "progress": ("no", "yes: one line per model and scenario with windows/s (fd:N: to that file descriptor)"),
}


def config_from_options(get) -> SuiteConfig:
    """A SuiteConfig from option strings; ``get(name)`` returns the resolved string of OPTIONS[name]."""
    from dataclasses import replace

    from harness.errors import ConfigError
    try:
        input_thresholds = replace(VerdictThresholds(), collapsed_bits=float(get("collapsed_bits")),
                                   degraded_bits=float(get("degraded_bits")))
        thresholds = SuiteThresholds(input_thresholds, degraded_recall_drop=float(get("degraded_recall_drop")),
                                     collapsed_recall_drop=float(get("collapsed_recall_drop")))
        return SuiteConfig(windows=int(get("windows")), sweep_windows=int(get("sweep_windows")),
                           seed=int(get("seed")), band=Band.parse(get("band")), thresholds=thresholds,
                           window_timeout_s=float(get("window_timeout")), inject_fault=get("inject_fault") or "")
    except ValueError as e:
        raise ConfigError(f"suite option: {e}") from e


def model_names(text: str, models_dir=None) -> list[str]:
    """``"minmax, robust"`` -> ["minmax", "robust"]; empty -> every model of the models folder."""
    from harness.suite.models import MODELS_DIR, available_models
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or available_models(models_dir or MODELS_DIR)
