"""``<name>.json`` beside ``<name>.tflite`` and ``<name>.float.tflite``: everything needed to use a
model without re-deriving it (scaler, quantization, classes) and to audit it (ops, seed,
accuracy, library versions, sha256 of the files).

``read_metadata`` checks the structure; ``load_bundle`` also checks the files against it: hashes,
the op list and quantization recorded versus what the ``.tflite`` holds, and the scaler versus the
model input. Every failure is a :class:`~harness.errors.ModelError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import BundleError, ModelError, ScalerError

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


def json_path_for(models_dir: str | Path, name: str) -> Path:
    return Path(models_dir) / f"{name}{JSON_SUFFIX}"


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


@dataclass
class ModelBundle:
    """A checked model bundle: its metadata, fitted scaler, file paths and the suite's sections
    (``spec``: sensor, window hop, watched classes, band, data, thresholds, expectations)."""

    metadata: ModelMetadata
    scaler: object
    int8_path: Path
    float_path: Path | None       # None: no float reference; its figures are reported as missing
    json_path: Path
    spec: object = None           # harness.bundle.spec.BundleSpec

    @property
    def name(self) -> str:
        return self.metadata.name


def _same_float(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=0.0)


def load_bundle(json_path: str | Path) -> ModelBundle:
    """Read a bundle's JSON and check its files, scaler and sections against it; every problem is
    a BundleError (a ModelError) naming the file and the field."""
    from harness.bundle.spec import parse_spec
    from harness.models.validate import validate_model
    from harness.quant.scalers import from_export

    json_path = Path(json_path)
    meta = read_metadata(json_path)
    where = str(json_path)
    folder = json_path.parent
    paths = {role: folder / meta.files[role]["name"] for role in ("int8", "float") if role in meta.files}
    for role, file_path in paths.items():
        if not file_path.is_file():
            raise BundleError(f"names {file_path.name}, which does not exist beside the bundle", where,
                              f"files.{role}.name")
        digest = sha256_file(file_path)
        if digest != meta.files[role]["sha256"]:
            raise BundleError(f"is {meta.files[role]['sha256'][:16]}... but {file_path.name} hashes to "
                              f"{digest[:16]}...: the file changed after the bundle was made (hil bundle / "
                              "hil train again)", where, f"files.{role}.sha256")
    try:
        scaler = from_export(meta.scaler)
    except ScalerError as e:
        raise BundleError(f"cannot be rebuilt: {e}", where, "scaler") from e
    info = validate_model(paths["int8"], int8=True, scaler=scaler,
                          window_len=int(meta.window["length"]))
    if list(info.ops) != list(meta.ops):
        raise BundleError(f"lists {meta.ops}, the .tflite has {list(info.ops)}", where, "ops")
    for role, tensor in (("input", info.input), ("output", info.output)):
        recorded = getattr(meta, role)
        if (list(tensor.shape) != list(recorded["shape"]) or tensor.dtype != recorded["dtype"]
                or tensor.zero_point != recorded["zero_point"]
                or not _same_float(tensor.scale, recorded["scale"])):
            raise BundleError(f"is {recorded}, the .tflite has {tensor.to_dict()}", where, role)
    if "float" in paths:
        validate_model(paths["float"], int8=False, scaler=scaler, window_len=int(meta.window["length"]))
    spec = parse_spec(meta.to_dict() | {"window": meta.window}, json_path, list(meta.classes),
                      int(scaler.input_channels))
    return ModelBundle(meta, scaler, paths["int8"], paths.get("float"), json_path, spec)


def is_bundle_json(path: str | Path) -> bool:
    """Does this JSON file claim to be a bundle (a ``format`` and ``files.int8``)? Scaler exports,
    folds and other JSON do not."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "format" in data and isinstance(data.get("files"), dict) \
        and "int8" in data["files"]


def list_bundles(models_dir: str | Path) -> list[Path]:
    """The bundles of a models folder, sorted by name. Every ``.json`` must be a bundle and every
    INT8 ``.tflite`` must belong to one: anything else is a BundleError naming the file, so that
    a folder is never half-read."""
    folder = Path(models_dir)
    if not folder.is_dir():
        raise BundleError("models folder does not exist (hil train or hil bundle writes one)", str(folder))
    bundles = sorted(folder.glob(f"*{JSON_SUFFIX}"))
    named: set[str] = set()
    for path in bundles:
        if not is_bundle_json(path):
            raise BundleError("is not a model bundle (no 'format' and 'files.int8'); keep scaler exports and "
                              "other JSON out of the models folder", str(path), "files.int8")
        try:
            files = json.loads(path.read_text())["files"]
        except (OSError, ValueError, KeyError, TypeError):
            continue   # load_bundle reports it with its field
        named.update(entry.get("name", "") for entry in files.values() if isinstance(entry, dict))
    orphans = sorted(p.name for p in folder.glob("*.tflite") if p.name not in named)
    if orphans:
        raise BundleError(f"{orphans[0]} has no bundle JSON naming it ({len(orphans)} such file(s)); make one with "
                          "hil bundle", str(folder / orphans[0]), "files.int8")
    if not bundles:
        raise BundleError("holds no bundle (<name>.json); make one with hil bundle", str(folder))
    return bundles
