"""Load a model bundle (docs/bundle.md): its JSON (harness.models.metadata), its files and its
suite sections (harness.bundle.spec), checked against each other; and a models folder's bundles.

Every problem is a BundleError (a ModelError) naming the file and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BundleError, ConfigError, ScalerError
from harness.models.json_kind import BUNDLE, read_json_kind
from harness.models.metadata import JSON_SUFFIX, ModelMetadata, read_metadata, sha256_file


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
        try:
            _, data = read_json_kind(path, allowed=(BUNDLE,))
        except ConfigError as e:
            raise BundleError(f"{str(e).removeprefix(f'{path}: ')}; keep scaler exports and other JSON out of "
                              "the models folder", str(path), "files.int8") from e
        named.update(entry.get("name", "") for entry in data["files"].values() if isinstance(entry, dict))
    orphans = sorted(p.name for p in folder.glob("*.tflite") if p.name not in named)
    if orphans:
        raise BundleError(f"{orphans[0]} has no bundle JSON naming it ({len(orphans)} such file(s)); make one with "
                          "hil bundle", str(folder / orphans[0]), "files.int8")
    if not bundles:
        raise BundleError("holds no bundle (<name>.json); make one with hil bundle", str(folder))
    return bundles
