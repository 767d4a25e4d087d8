"""The parts of a model bundle the suite needs beyond the model files: typed, checked, with units.

A bundle (``docs/bundle.md``) is one JSON file beside its ``.tflite`` files. The sections read
here are the team's own facts: the sensor, the classes that must keep their recall, the band of
interest, where the calibration and labelled data are, the verdict thresholds and expectations.
Every problem is a :class:`BundleError` naming the file and the field (``sensor.counts_per_g``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import BundleError
from harness.models.dataset import CONTAINER_SENSOR
from harness.quant.metrics import DEFAULT_BAND_G

UNITS = ("g", "mg", "m/s2")
VERDICTS = ("OK", "DEGRADED", "COLLAPSED")


class Fields:
    """Typed reads of one JSON object, each error naming ``path`` and the dotted field."""

    def __init__(self, data, path: str | None, prefix: str = ""):
        self.path = path
        self.prefix = prefix
        if not isinstance(data, dict):
            raise BundleError(f"must be a JSON object, got {type(data).__name__}", path, prefix or "(top level)")
        self.data = data

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, message: str) -> BundleError:
        return BundleError(message, self.path, self.name(key))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def section(self, key: str, required: bool = False) -> "Fields | None":
        if not self.has(key):
            if required:
                raise self.error(key, "is required")
            return None
        return Fields(self.data[key], self.path, self.name(key))

    def text(self, key: str, default: str | None = None, choices=None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "is required (a string)")
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def number(self, key: str, default: float | None = None, positive: bool = False) -> float:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "is required (a number)")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(key, f"must be a finite number, got {value!r}")
        if positive and value <= 0:
            raise self.error(key, f"must be > 0, got {value!r}")
        return float(value)

    def integer(self, key: str, default: int | None = None, minimum: int = 1) -> int:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "is required (an integer)")
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be an integer >= {minimum}, got {value!r}")
        return int(value)

    def strings(self, key: str, default=None) -> list[str]:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "is required (a list of strings)")
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, f"must be a non-empty list of strings, got {value!r}")
        if len(set(value)) != len(value):
            raise self.error(key, f"has duplicates: {value}")
        return list(value)


@dataclass(frozen=True)
class Sensor:
    """The accelerometer as the device reads it: axes, rate, and the int16 counts per g."""

    axes: tuple[str, ...]
    rate_hz: float
    counts_per_g: float
    full_scale_g: float
    units: str = "g"                 # what the team's recordings are in (converted to g on read)

    def to_dict(self) -> dict:
        return {"axes": list(self.axes), "rate_hz": self.rate_hz, "counts_per_g": self.counts_per_g,
                "full_scale_g": self.full_scale_g, "units": self.units}


@dataclass(frozen=True)
class Recording:
    """A labelled recording: a CSV or Parquet file with one column per axis and a label column."""

    file: Path
    label_column: str
    columns: tuple[str, ...]         # the axis columns, in the sensor's axis order
    units: str
    time_column: str | None = None

    def to_dict(self, relative_to: Path) -> dict:
        return {"file": _relative(self.file, relative_to), "label_column": self.label_column,
                "columns": list(self.columns), "units": self.units,
                **({"time_column": self.time_column} if self.time_column else {})}


@dataclass(frozen=True)
class DataSpec:
    """Where the suite's windows come from: the team's calibration file and labelled recordings,
    or the harness's synthetic container recipe (``synthetic``: the fixtures)."""

    calibration: Recording | None = None
    recordings: tuple[Recording, ...] = ()
    synthetic: str = ""              # "container": harness.models.dataset with training.dataset

    def to_dict(self, relative_to: Path) -> dict:
        out: dict = {}
        if self.calibration is not None:
            out["calibration"] = self.calibration.to_dict(relative_to)
        if self.recordings:
            out["recordings"] = [r.to_dict(relative_to) for r in self.recordings]
        if self.synthetic:
            out["synthetic"] = self.synthetic
        return out


@dataclass(frozen=True)
class Expectations:
    """What the team expects the suite to say (Zephyr's sample.yaml: the expectation lives with
    the artifact). Without any, every verdict other than OK fails."""

    verdict: str | None = None
    input_verdict: str | None = None

    @property
    def given(self) -> bool:
        return self.verdict is not None or self.input_verdict is not None

    def to_dict(self) -> dict:
        return {k: v for k, v in (("verdict", self.verdict), ("input_verdict", self.input_verdict)) if v}


@dataclass(frozen=True)
class BundleSpec:
    sensor: Sensor
    window_hop: int
    watched_classes: tuple[str, ...]
    band_g: tuple[float, float]
    data: DataSpec
    expectations: Expectations = field(default_factory=Expectations)
    thresholds: dict = field(default_factory=dict)   # harness.suite.config.SuiteThresholds overrides


def _relative(path: Path, folder: Path) -> str:
    import os
    return os.path.relpath(Path(path).resolve(), Path(folder).resolve())




def parse_sensor(fields: Fields, channels: int) -> Sensor:
    axes = fields.strings("axes")
    if len(axes) != channels:
        raise fields.error("axes", f"names {len(axes)} axes, the window has {channels} channel(s) of raw data")
    sensor = Sensor(tuple(axes), fields.number("rate_hz", positive=True), fields.number("counts_per_g", positive=True),
                    fields.number("full_scale_g", positive=True), fields.text("units", "g", UNITS))
    if sensor.full_scale_g * sensor.counts_per_g > 32768 * 1.0001:
        raise fields.error("full_scale_g", f"{sensor.full_scale_g:g} g at {sensor.counts_per_g:g} counts/g does not "
                                           "fit the device's int16 samples (at most 32768 counts)")
    return sensor


def _recording(fields: Fields, folder: Path, sensor: Sensor, labelled: bool) -> Recording:
    file = folder / fields.text("file")
    if not file.is_file():
        raise fields.error("file", f"names {file}, which does not exist")
    if file.suffix.lower() not in (".csv", ".parquet"):
        raise fields.error("file", f"must be a .csv or .parquet file, got {file.name}")
    columns = fields.strings("columns", list(sensor.axes))
    if len(columns) != len(sensor.axes):
        raise fields.error("columns", f"names {len(columns)} columns for a sensor of {len(sensor.axes)} axes")
    label = fields.text("label_column") if labelled else (fields.data.get("label_column") or "")
    time_column = fields.data.get("time_column")
    if time_column is not None:
        time_column = fields.text("time_column")
    return Recording(file, label, tuple(columns), fields.text("units", sensor.units, UNITS), time_column)


def parse_data(fields: Fields | None, folder: Path, sensor: Sensor) -> DataSpec:
    if fields is None:
        raise BundleError("is required: a calibration file and labelled recordings (or 'synthetic')",
                          None, "data")
    synthetic = fields.data.get("synthetic") or ""
    if synthetic and synthetic != "container":
        raise fields.error("synthetic", f"the only synthetic recipe is 'container', got {synthetic!r}")
    calibration = fields.section("calibration")
    recordings = fields.data.get("recordings") or []
    if not isinstance(recordings, list):
        raise fields.error("recordings", "must be a list of recordings")
    parsed = tuple(_recording(Fields(r, fields.path, fields.name(f"recordings[{i}]")), folder, sensor, True)
                   for i, r in enumerate(recordings))
    spec = DataSpec(_recording(calibration, folder, sensor, False) if calibration else None, parsed, synthetic)
    if not synthetic and (spec.calibration is None or not spec.recordings):
        raise fields.error("calibration" if spec.calibration is None else "recordings",
                           "is required unless the data is synthetic: the suite fits the candidate scalers on the "
                           "calibration file and streams the labelled recordings")
    return spec


def parse_expectations(fields: Fields | None) -> Expectations:
    if fields is None:
        return Expectations()
    return Expectations(fields.text("verdict", None, VERDICTS) if fields.has("verdict") else None,
                        fields.text("input_verdict", None, VERDICTS) if fields.has("input_verdict") else None)


def parse_band(fields: Fields) -> tuple[float, float]:
    value = fields.data.get("band_g", list(DEFAULT_BAND_G))
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            or not 0 <= value[0] < value[1]):
        raise fields.error("band_g", f"must be [lo_g, hi_g] with 0 <= lo < hi, got {value!r}")
    return float(value[0]), float(value[1])


def parse_spec(data: dict, path: str | Path, classes: list[str], channels: int) -> BundleSpec:
    """The suite's sections of a bundle (``data`` is the whole JSON object)."""
    path = Path(path)
    top = Fields(data, str(path))
    sensor_fields = top.section("sensor") or Fields(CONTAINER_SENSOR, str(path), "sensor")
    sensor = parse_sensor(sensor_fields, channels)
    window = top.section("window", required=True)
    hop = window.integer("hop", window.data.get("length"))
    watched = top.strings("watched_classes", list(classes))
    unknown = [c for c in watched if c not in classes]
    if unknown:
        raise top.error("watched_classes", f"names {unknown}, not among the classes {classes}")
    data_fields = top.section("data")
    if data_fields is None:
        raise top.error("data", "is required: a calibration file and labelled recordings (or \"synthetic\": "
                                "\"container\" for the harness's own recipe)")
    spec_data = parse_data(data_fields, path.parent, sensor)
    if spec_data.synthetic and not isinstance((data.get("training") or {}).get("dataset"), dict):
        raise top.error("training.dataset", "is required with data.synthetic: the recipe's configuration")
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        raise top.error("thresholds", "must be a JSON object")
    return BundleSpec(sensor, hop, tuple(watched), parse_band(top), spec_data,
                      parse_expectations(top.section("expectations")), dict(thresholds))
