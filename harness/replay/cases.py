"""Regression cases in ``fixtures/field/``: load one, replay it on the host and on a device.

A case is ``<name>.json`` + its segment (``harness.replay.shrink.save_case``). Replaying it means:
import the segment with the signals core (units, validation), cut it into model windows, run
the float and host INT8 references (the same ``HostTriage`` as ``hil replay``) and, on a device,
the INT8 model with its fold on the raw counts. ``check_case_*`` return lists of differences from
what the case expects (empty: the disagreement still reproduces).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ConfigError
from harness.paths import FIELD_DIR

CASES_DIR = FIELD_DIR


def case_paths(cases_dir=CASES_DIR) -> list[Path]:
    return sorted(Path(cases_dir).glob("*.json"))


@dataclass
class FieldCase:
    path: Path
    data: dict
    windows_g: np.ndarray

    @property
    def expected(self) -> list[dict]:
        return self.data["expected"]["windows"]


def load_case(path, triage=None) -> FieldCase:
    from harness.signals.field import cut_windows, import_recording
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read field case {path}: {e}") from e
    for key in ("trace", "model", "expected", "counts_per_g", "model_sha256"):
        if key not in data:
            raise ConfigError(f"field case {path} lacks '{key}'")
    trace = import_recording(path.parent / data["trace"], units=data.get("units", "g"))
    window_len = triage.window_len if triage is not None else 128
    windows = cut_windows(trace, window_len=window_len, rate_hz=triage.rate_hz if triage else None)
    return FieldCase(path, data, windows.samples)


def case_triage(case_or_path):
    from harness.replay.triage import HostTriage
    path = case_or_path.path if isinstance(case_or_path, FieldCase) else Path(case_or_path)
    data = case_or_path.data if isinstance(case_or_path, FieldCase) else json.loads(path.read_text())
    model = path.parent / data["bundle"] if data.get("bundle") else data["model"]   # a team's bundle
    triage = HostTriage(model, data["counts_per_g"])
    if triage.fingerprint()["int8_sha256"] != data["model_sha256"]:
        raise ConfigError(f"field case {data.get('name')}: model {data['model']} changed since the case "
                          "was saved (sha256 differs); re-shrink the case or pin the model")
    return triage


def check_case_on_host(case: FieldCase, triage) -> list[str]:
    result = triage.run(case.windows_g)
    problems = []
    if len(result) != len(case.expected):
        return [f"{len(result)} windows, the case expects {len(case.expected)}"]
    for k, want in enumerate(case.expected):
        got = (triage.classes[result.float_class[k]], triage.classes[result.int8_class[k]])
        if got != (want["float_class"], want["int8_class"]):
            problems.append(f"window {k}: float {got[0]}, INT8 {got[1]}; expected float "
                            f"{want['float_class']}, INT8 {want['int8_class']}")
        if [int(c) for c in result.int8_codes[k]] != want["int8_codes"]:
            problems.append(f"window {k}: host INT8 output codes {result.int8_codes[k].tolist()}, "
                            f"expected {want['int8_codes']}")
    if not np.any(result.disagree):
        problems.append("float and host INT8 agree on every window: the disagreement is gone")
    return problems


def check_case_on_device(case: FieldCase, triage, client, timeout_s: float = 10.0) -> list[str]:
    """Device output codes == the case's host INT8 codes (input codes == mirror is checked by
    the deployed pipeline and raises PipelineMismatchError)."""
    pipeline = triage.pipeline(timeout_s)
    pipeline.deploy(client)
    result = pipeline.infer_windows(triage.counts(case.windows_g))
    outputs = np.asarray(result.outputs).reshape(len(result), -1)
    return [f"window {k}: device output codes {outputs[k].tolist()}, host INT8 {want['int8_codes']}"
            for k, want in enumerate(case.expected) if outputs[k].tolist() != want["int8_codes"]]
