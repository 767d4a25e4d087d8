"""``<name>.json`` beside ``<name>.tflite`` and ``<name>.float.tflite``: everything needed to use a
model without re-deriving it (scaler, quantization, classes) and to audit it (ops, seed,
accuracy, library versions, sha256 of the files).

``read_metadata`` checks the structure; ``harness.bundle.load.load_bundle`` also checks the files
against it: hashes, the op list and quantization recorded versus what the ``.tflite`` holds, the
scaler versus the model input, and the suite's sections. Every failure names the file.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import BundleError, ModelError

METADATA_FORMAT = 2   # 2: the bundle (docs/bundle.md); 1 had hil train's provenance required
INT8_SUFFIX = ".tflite"
FLOAT_SUFFIX = ".float.tflite"
JSON_SUFFIX = ".json"


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class ModelMetadata:
    """The contents of a bundle's JSON (docs/bundle.md). Required: what identifies and runs the
    model (name, classes, scaler, window, the INT8 file and its quantization, ops) and where the
    suite's data come from (``data``). Everything ``hil train`` records about its own training
    (``training``, ``calibration``, ``accuracy``, ``held_out``, ``versions``) is optional
    provenance. ``accuracy`` maps reference kind ("float", "int8") to
    ``{"overall": float, "per_class": {class: float}, "confusion": [[int]]}``."""

    name: str
    classes: list[str]
    scaler: dict                      # harness.quant.scalers Scaler.export()
    window: dict                      # {"length": int, "hop": int, "rate_hz": float, "channels": int}
    input: dict                       # {"shape", "dtype", "scale", "zero_point"} of the INT8 model
    output: dict
    ops: list[str]
    files: dict                       # {"int8": {"name", "sha256", "bytes"}, "float": {...} optional}
    description: str = ""
    data: dict = field(default_factory=dict)            # calibration file, recordings or "synthetic"
    sensor: dict = field(default_factory=dict)          # axes, rate_hz, counts_per_g, full_scale_g, units
    watched_classes: list = field(default_factory=list)  # default: every class
    band_g: list = field(default_factory=list)          # default: 0.2-1.5 g
    thresholds: dict = field(default_factory=dict)
    expectations: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)        # hil train: seed, method, config, dataset recipe
    calibration: dict = field(default_factory=dict)     # hil train: windows, outlier peak
    accuracy: dict = field(default_factory=dict)
    held_out: dict = field(default_factory=dict)        # hil train: the held-out set the accuracy is on
    versions: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)      # free: who made it, from what
    format: int = METADATA_FORMAT
    extra: dict = field(default_factory=dict)

    REQUIRED = ("name", "classes", "scaler", "window", "input", "output", "ops", "files")

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in ({}, [], "") or k in self.REQUIRED}

    @property
    def has_float(self) -> bool:
        return isinstance(self.files.get("float"), dict)

    @classmethod
    def from_dict(cls, data: dict, path: str | None = None) -> "ModelMetadata":
        if not isinstance(data, dict):
            raise BundleError("must be a JSON object", path)
        if data.get("format") != METADATA_FORMAT:
            raise BundleError(f"is {data.get('format')!r}; this harness reads bundle format {METADATA_FORMAT} "
                              "(docs/bundle.md)", path, "format")
        missing = [k for k in cls.REQUIRED if k not in data]
        if missing:
            raise BundleError("is required (docs/bundle.md)", path, missing[0])
        known = set(cls.__dataclass_fields__)
        meta = cls(**{k: v for k, v in data.items() if k in known})
        meta._check(path)
        return meta

    def _check(self, path: str | None) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise BundleError("must be a non-empty string", path, "name")
        if (not isinstance(self.classes, list) or not self.classes
                or not all(isinstance(c, str) and c for c in self.classes) or len(set(self.classes)) != len(self.classes)):
            raise BundleError(f"must be a list of distinct class names, got {self.classes!r}", path, "classes")
        for role in ("int8", "float"):
            entry = self.files.get(role) if isinstance(self.files, dict) else None
            if entry is None and role == "float":
                continue
            if not isinstance(entry, dict) or not {"name", "sha256"} <= set(entry):
                raise BundleError("needs name and sha256 (hil bundle fills them in)", path, f"files.{role}")
        for role in ("input", "output"):
            tensor = getattr(self, role)
            if not isinstance(tensor, dict) or not {"shape", "dtype", "scale", "zero_point"} <= set(tensor):
                raise BundleError("needs shape, dtype, scale, zero_point (hil bundle fills them in from the "
                                  ".tflite)", path, role)
        if not isinstance(self.window, dict) or not isinstance(self.window.get("length"), int):
            raise BundleError("needs length (samples per window)", path, "window")
        if len(self.classes) != self.output["shape"][-1]:
            raise BundleError(f"names {len(self.classes)} classes for a model output of shape "
                              f"{self.output['shape']}", path, "classes")
        for kind, acc in self.accuracy.items():
            if set(acc.get("per_class", {})) != set(self.classes):
                raise BundleError("must name every class", path, f"accuracy.{kind}.per_class")


def _json_safe(value):
    """Unbounded clip limits (+-inf in a scaler export) become null: strict JSON has no inf."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            raise ModelError("metadata holds NaN; a figure was not computed")
        return None
    return value


def write_metadata(meta: ModelMetadata, path: str | Path) -> None:
    # Sorted keys, fixed indent, trailing newline: the same model gives the same bytes.
    text = json.dumps(_json_safe(meta.to_dict()), indent=2, sort_keys=True, allow_nan=False) + "\n"
    Path(path).write_text(text)


def read_metadata(path: str | Path) -> ModelMetadata:
    path = str(path)
    try:
        data = json.loads(Path(path).read_text())
    except OSError as e:
        raise ModelError(f"cannot read metadata: {e.strerror}", path) from e
    except json.JSONDecodeError as e:
        raise ModelError(f"metadata is not valid JSON: {e}", path) from e
    return ModelMetadata.from_dict(data, path)
