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

from harness.errors import ModelError, ScalerError

METADATA_FORMAT = 1
INT8_SUFFIX = ".tflite"
FLOAT_SUFFIX = ".float.tflite"
JSON_SUFFIX = ".json"


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class ModelMetadata:
    """The contents of ``<name>.json``. ``accuracy`` maps reference kind ("float", "int8") to
    ``{"overall": float, "per_class": {class: float}, "confusion": [[int]]}``."""

    name: str
    description: str
    classes: list[str]
    scaler: dict                      # harness.quant.scalers Scaler.export()
    window: dict                      # {"length": int, "rate_hz": float, "channels": int}
    input: dict                       # {"shape", "dtype", "scale", "zero_point"} of the INT8 model
    output: dict
    ops: list[str]
    training: dict                    # seed, method (ptq/qat), epochs, architecture, data sizes
    calibration: dict                 # windows, outlier peak, representative windows
    accuracy: dict
    held_out: dict                    # seed and size of the held-out set the accuracy is on
    versions: dict
    files: dict                       # {"int8": {"name", "sha256", "bytes"}, "float": {...}}
    format: int = METADATA_FORMAT
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, path: str | None = None) -> "ModelMetadata":
        if not isinstance(data, dict):
            raise ModelError("metadata must be a JSON object", path)
        if data.get("format") != METADATA_FORMAT:
            raise ModelError(f"metadata format {data.get('format')!r} is not {METADATA_FORMAT}",
                             path)
        known = set(cls.__dataclass_fields__)
        missing = sorted(k for k in known - {"extra", "format"} if k not in data)
        if missing:
            raise ModelError(f"metadata lacks field(s) {', '.join(missing)}", path)
        meta = cls(**{k: v for k, v in data.items() if k in known})
        meta._check(path)
        return meta

    def _check(self, path: str | None) -> None:
        for role in ("int8", "float"):
            entry = self.files.get(role)
            if not isinstance(entry, dict) or not {"name", "sha256"} <= set(entry):
                raise ModelError(f"metadata 'files.{role}' needs name and sha256", path)
        for role in ("input", "output"):
            tensor = getattr(self, role)
            if not {"shape", "dtype", "scale", "zero_point"} <= set(tensor):
                raise ModelError(f"metadata '{role}' needs shape, dtype, scale, zero_point", path)
        if len(self.classes) != self.output["shape"][-1]:
            raise ModelError(f"{len(self.classes)} class names for an output of shape "
                             f"{self.output['shape']}", path)
        for kind, acc in self.accuracy.items():
            if set(acc.get("per_class", {})) != set(self.classes):
                raise ModelError(f"metadata accuracy.{kind}.per_class must name every class", path)


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
    """A checked model: its metadata, fitted scaler and file paths."""

    metadata: ModelMetadata
    scaler: object
    int8_path: Path
    float_path: Path
    json_path: Path

    @property
    def name(self) -> str:
        return self.metadata.name


def _same_float(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=0.0)


def load_bundle(json_path: str | Path) -> ModelBundle:
    """Read ``<name>.json`` and check both ``.tflite`` files and the scaler against it."""
    from harness.models.validate import validate_model
    from harness.quant.scalers import from_export

    json_path = Path(json_path)
    meta = read_metadata(json_path)
    folder = json_path.parent
    paths = {role: folder / meta.files[role]["name"] for role in ("int8", "float")}
    for role, file_path in paths.items():
        if not file_path.is_file():
            raise ModelError(f"metadata names {role} model {file_path.name}, which does not exist",
                             str(json_path))
        digest = sha256_file(file_path)
        if digest != meta.files[role]["sha256"]:
            raise ModelError(f"sha256 {digest[:16]}... differs from the {meta.files[role]['sha256'][:16]}"
                             f"... recorded in {json_path.name}; the file changed after training "
                             "(re-run hil train)", str(file_path))
    try:
        scaler = from_export(meta.scaler)
    except ScalerError as e:
        raise ModelError(f"scaler in metadata cannot be rebuilt: {e}", str(json_path)) from e
    info = validate_model(paths["int8"], int8=True, scaler=scaler,
                          window_len=int(meta.window["length"]))
    if list(info.ops) != list(meta.ops):
        raise ModelError(f"ops {list(info.ops)} differ from {meta.ops} in {json_path.name}",
                         info.path)
    for role, tensor in (("input", info.input), ("output", info.output)):
        recorded = getattr(meta, role)
        if (list(tensor.shape) != list(recorded["shape"]) or tensor.dtype != recorded["dtype"]
                or tensor.zero_point != recorded["zero_point"]
                or not _same_float(tensor.scale, recorded["scale"])):
            raise ModelError(f"{role} tensor {tensor.to_dict()} differs from {recorded} in "
                             f"{json_path.name}", info.path)
    validate_model(paths["float"], int8=False, scaler=scaler, window_len=int(meta.window["length"]))
    return ModelBundle(meta, scaler, paths["int8"], paths["float"], json_path)


def list_bundles(models_dir: str | Path) -> list[Path]:
    """``<name>.json`` files of a models folder, sorted by name."""
    folder = Path(models_dir)
    if not folder.is_dir():
        raise ModelError("models folder does not exist; run hil train first", str(folder))
    return sorted(folder.glob(f"*{JSON_SUFFIX}"))
