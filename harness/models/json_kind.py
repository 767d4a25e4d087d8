"""Which of the project's JSON files this is: a model bundle, a scaler export or a fold export.

One place that tells them apart by their keys, for every command that takes "a JSON" (``hil infer
--scaler-from``, ``hil bundle --scaler``, a models folder):

- a ``model bundle``: ``format`` and ``files.int8`` (docs/bundle.md; ``harness.models.metadata``);
- a ``scaler export``: ``kind`` and ``fitted`` (``harness.quant.scalers.Scaler.export``);
- a ``fold export``: ``kind`` affine or threshold, and ``channels`` (``harness.quant.fold``).

A bundle carries a scaler export under ``scaler``; a scaler export may carry its fold under
``fixed_point``.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import ConfigError
from harness.quant.fold import FOLD_KINDS

BUNDLE = "model bundle"
SCALER_EXPORT = "scaler export"
FOLD_EXPORT = "fold export"
JSON_KINDS = (BUNDLE, SCALER_EXPORT, FOLD_EXPORT)

KEYS = {BUNDLE: "'format' and 'files.int8'", SCALER_EXPORT: "'kind' and 'fitted'",
        FOLD_EXPORT: "'kind' affine or threshold, and 'channels'"}


def json_kind(data) -> str | None:
    """BUNDLE, SCALER_EXPORT or FOLD_EXPORT for parsed JSON ``data``; None when it is none of them."""
    if not isinstance(data, dict):
        return None
    files = data.get("files")
    if "format" in data and isinstance(files, dict) and "int8" in files:
        return BUNDLE
    if data.get("kind") in FOLD_KINDS and "channels" in data:
        return FOLD_EXPORT
    if "kind" in data and "fitted" in data:
        return SCALER_EXPORT
    return None


def describe_json(data) -> str:
    """What ``data`` is, for an error message: "a scaler export", "a JSON object with keys a, b"."""
    kind = json_kind(data)
    if kind is not None:
        return f"a {kind}"
    if isinstance(data, dict):
        keys = sorted(data)
        return ("a JSON object with keys " + ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
                if keys else "an empty JSON object")
    return f"a JSON {type(data).__name__}"


def read_json(path: str | Path):
    """The parsed JSON file at ``path``; unreadable or not JSON: a ConfigError naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it: {e.strerror or e}") from e
    except ValueError as e:
        raise ConfigError(f"{path}: is not valid JSON: {e}") from e


def read_json_kind(path: str | Path, allowed=JSON_KINDS) -> tuple[str, dict]:
    """(kind, data) of the JSON file at ``path``. A file that cannot be read, is not JSON, or is not
    one of ``allowed`` is a ConfigError naming it, what it is and what it should be."""
    data = read_json(path)
    kind = json_kind(data)
    if kind is None or kind not in allowed:
        wanted = " or ".join(f"a {k} ({KEYS[k]})" for k in allowed)
        raise ConfigError(f"{path}: is {describe_json(data)}, not {wanted}")
    return kind, data
