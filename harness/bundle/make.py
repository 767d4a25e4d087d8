"""Make a bundle from its parts (``hil bundle``): the ``.tflite`` files, a fitted scaler, the
sensor, the classes and the data. Ops, quantization, window length and sha256 come from the
files; the result is checked by the same loader the suite uses before it is returned.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.bundle.spec import Recording, Sensor
from harness.quant.metrics import DEFAULT_BAND_G
from harness.errors import BundleError, ConfigError, ScalerError


@dataclass
class BundleParts:
    int8_tflite: Path
    classes: list[str]
    sensor: Sensor
    calibration: Recording
    recordings: list[Recording]
    scaler: object = None                 # a fitted harness scaler, or None: fit ``scaler_spec``
    scaler_spec: str = ""                 # e.g. "robust" or "robust:clip_lo=-3,clip_hi=3"
    float_tflite: Path | None = None
    name: str = ""
    description: str = ""
    watched_classes: list[str] = field(default_factory=list)
    hop: int | None = None
    band_g: tuple[float, float] = DEFAULT_BAND_G
    expectations: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)


def load_scaler(source: str, clip=None):
    """A fitted scaler from a pickled scikit-learn scaler (.pkl/.pickle) or a harness export
    (.json: ``Scaler.export()``)."""
    from harness.bundle.sklearn_import import load_sklearn_pickle
    from harness.models.json_kind import SCALER_EXPORT, read_json_kind
    from harness.quant.scalers import from_export
    path = Path(source)
    if path.suffix.lower() in (".pkl", ".pickle"):
        return load_sklearn_pickle(path, clip)
    if path.suffix.lower() == ".json":
        try:
            _, export = read_json_kind(path, allowed=(SCALER_EXPORT,))
            return from_export(export)
        except (ConfigError, ScalerError) as e:
            raise BundleError(f"is not a harness scaler export: {str(e).removeprefix(f'{path}: ')}", str(path),
                              "scaler") from e
    raise BundleError("must be a pickled scikit-learn scaler (.pkl) or a harness scaler export (.json)",
                      str(path), "scaler")


def _relative(path: Path, folder: Path) -> str:
    return os.path.relpath(Path(path).resolve(), folder.resolve())


def make_bundle(parts: BundleParts, out_json: str | Path):
    """Write the bundle JSON at ``out_json`` (file names relative to its folder) and return the
    checked ModelBundle."""
    from harness.bundle.recordings import read_recording
    from harness.bundle.load import load_bundle
    from harness.models.metadata import METADATA_FORMAT, ModelMetadata, sha256_file, write_metadata
    from harness.models.validate import validate_model
    from harness.quant.scalers import parse_scaler_spec

    out_json = Path(out_json)
    folder = out_json.parent
    folder.mkdir(parents=True, exist_ok=True)
    info = validate_model(parts.int8_tflite, int8=True)
    window_len, channels = int(info.input.shape[1]), int(info.input.shape[2])
    scaler = parts.scaler
    if scaler is None:
        if not parts.scaler_spec:
            raise BundleError("give a fitted scaler (.pkl/.json) or a scaler to fit on the calibration file",
                              None, "scaler")
        calibration = read_recording(parts.calibration, parts.sensor)
        scaler = parse_scaler_spec(parts.scaler_spec).fit(calibration.g)
    files = {"int8": {"name": _relative(parts.int8_tflite, folder), "sha256": sha256_file(parts.int8_tflite),
                      "bytes": Path(parts.int8_tflite).stat().st_size}}
    if parts.float_tflite is not None:
        files["float"] = {"name": _relative(parts.float_tflite, folder), "sha256": sha256_file(parts.float_tflite),
                          "bytes": Path(parts.float_tflite).stat().st_size}
    meta = ModelMetadata(
        name=parts.name or Path(parts.int8_tflite).stem, description=parts.description,
        classes=list(parts.classes), scaler=scaler.export(),
        window={"length": window_len, "hop": int(parts.hop or window_len), "rate_hz": parts.sensor.rate_hz,
                "channels": channels},
        input=info.input.to_dict(), output=info.output.to_dict(), ops=list(info.ops), files=files,
        data={"calibration": parts.calibration.to_dict(folder),
              "recordings": [r.to_dict(folder) for r in parts.recordings]},
        sensor=parts.sensor.to_dict(), watched_classes=list(parts.watched_classes or parts.classes),
        band_g=list(parts.band_g), thresholds=dict(parts.thresholds), expectations=dict(parts.expectations),
        provenance=dict(parts.provenance), format=METADATA_FORMAT)
    for recording in (parts.calibration, *parts.recordings):
        recording_path = Path(recording.file)
        if not recording_path.is_file():
            raise BundleError(f"names {recording_path}, which does not exist", None, "data")
    write_metadata(meta, out_json)
    try:
        return load_bundle(out_json)
    except BundleError:
        out_json.unlink()   # never leave a bundle behind that the loader refuses
        raise
