"""What a suite run measures and where its lines are: window counts, seeds, band, thresholds.

One dataclass per concern, each with defaults a CI run can use; ``hil run`` and the pytest
plugin fill them from options (parametrize > command line > ini > default).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from harness.quant.metrics import Band
from harness.quant.verdict import VerdictThresholds

DEFAULT_WINDOWS = 64               # per scenario (normal, pre_failure, impact, mixed; recorded: per class)
DEFAULT_SWEEP_WINDOWS = 3          # per outlier amplitude of the sweep (1..16 g)
DEFAULT_SEED = 7_000               # far from the training seeds (20240613 + k)
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

    def flat(self) -> dict:
        """Every threshold by its name, as a bundle's ``thresholds`` section spells them."""
        return {**asdict(self.input), "degraded_recall_drop": self.degraded_recall_drop,
                "collapsed_recall_drop": self.collapsed_recall_drop}

    @classmethod
    def from_flat(cls, values: dict, where: str = "thresholds", path: str | None = None) -> "SuiteThresholds":
        from harness.errors import BundleError
        known = cls().flat()
        for key, value in values.items():
            if key not in known:
                raise BundleError(f"is not a threshold; known: {', '.join(known)}", path, f"{where}.{key}")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BundleError(f"must be a number, got {value!r}", path, f"{where}.{key}")
        merged = {**known, **{k: float(v) for k, v in values.items()}}
        recall = {k: merged.pop(k) for k in ("degraded_recall_drop", "collapsed_recall_drop")}
        return cls(VerdictThresholds(**merged), **recall)

    def resolve(self, bundle_thresholds: dict | None, path: str | None = None) -> "SuiteThresholds":
        """Command line > bundle > default: the bundle's values, then every value of this one
        (the options') that differs from the default."""
        defaults = SuiteThresholds().flat()
        given = {k: v for k, v in self.flat().items() if v != defaults[k]}
        return SuiteThresholds.from_flat({**(bundle_thresholds or {}), **given}, path=path)


@dataclass(frozen=True)
class SuiteConfig:
    windows: int = DEFAULT_WINDOWS
    sweep_windows: int = DEFAULT_SWEEP_WINDOWS
    seed: int = DEFAULT_SEED
    band: Band | None = None          # None: the bundle's band (0.2-1.5 g by default)
    thresholds: SuiteThresholds = field(default_factory=SuiteThresholds)
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
                "band_g": [self.band.lo_g, self.band.hi_g] if self.band else None, "thresholds": self.thresholds.to_dict(),
                "sweep_peaks_g": list(self.sweep_peaks_g),
                "window_timeout_s": self.window_timeout_s, "inject_fault": self.inject_fault}


@dataclass(frozen=True)
class Option:
    """One suite option, declared once (pyOCD's options table): ``hil run --NAME`` and the
    plugin's ``--hil-NAME`` / ini ``hil_NAME`` are generated from it, with this default."""

    name: str
    type: type
    default: object
    help: str
    cli: bool = True     # hil run has it (suite_out and progress are the plugin's own)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SUITE_OPTIONS = (
    Option("models", str, "", "models the suite runs, comma-separated names of the models folder or bundle "
                              "JSON paths (default: all of the models folder)"),
    Option("models_dir", str, "", "folder of model bundles (default: the fixtures)"),
    Option("windows", int, DEFAULT_WINDOWS, "windows per scenario (recorded data: per class)"),
    Option("sweep_windows", int, DEFAULT_SWEEP_WINDOWS, "windows per outlier amplitude of the 1-16 g sweep"),
    Option("seed", int, DEFAULT_SEED, "seed of the suite's scenario windows"),
    Option("band", str, "", "band of interest in g, LO:HI (default: the bundle's band_g, else 0.2:1.5)"),
    Option("collapsed_bits", float, VerdictThresholds.collapsed_bits, "input codes: COLLAPSED below this many bits"),
    Option("degraded_bits", float, VerdictThresholds.degraded_bits, "input codes: DEGRADED below this many bits"),
    Option("collapsed_recall_drop", float, SuiteThresholds.collapsed_recall_drop,
           "outputs: COLLAPSED from this float-minus-device recall drop"),
    Option("degraded_recall_drop", float, SuiteThresholds.degraded_recall_drop,
           "outputs: DEGRADED from this float-minus-device recall drop"),
    Option("window_timeout", float, DEFAULT_WINDOW_TIMEOUT_S, "seconds a window may take before the device counts "
           "as hung: it is reset and the window retried once, then recorded as a DEVICE FAULT"),
    Option("inject_fault", str, "", "test the device-fault path on this bench (test-only FAULT_ARM request): "
           "MODE@[SCENARIO:]WINDOW[:persistent], MODE hang or crash, e.g. hang@mixed:5"),
    Option("suite_out", str, "", "directory for the suite's windows.parquet/.csv, input_codes.npz and summary.json",
           cli=False),
    Option("progress", str, "no", "yes: one line per model and scenario with windows/s (fd:N: to that file "
           "descriptor)", cli=False),
)
# name: (default as text, help): the plugin's view (pytest options and ini values are strings)
OPTIONS = {o.name: (str(o.default), o.help) for o in SUITE_OPTIONS}


def add_cli_options(parser) -> None:
    """hil run's suite options, from SUITE_OPTIONS (the same defaults as the plugin's)."""
    for option in SUITE_OPTIONS:
        if option.cli:
            parser.add_argument(option.flag, dest=option.name, type=option.type, default=option.default,
                                help=f"{option.help} (default: {option.default!r})")


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
                           seed=int(get("seed")), band=Band.parse(get("band")) if get("band") else None,
                           thresholds=thresholds,
                           window_timeout_s=float(get("window_timeout")), inject_fault=get("inject_fault") or "")
    except ValueError as e:
        raise ConfigError(f"suite option: {e}") from e


def model_names(text: str, models_dir=None) -> list[str]:
    """``"minmax, robust"`` -> ["minmax", "robust"]; empty -> every model of the models folder."""
    from harness.suite.suite_model import MODELS_DIR, available_models
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or available_models(models_dir or MODELS_DIR)
