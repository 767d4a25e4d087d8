"""Shrink a failing recording to the smallest segment that still shows the disagreement, and save
it as a regression case in ``fixtures/field/``.

Delta debugging (Zeller's ddmin) first over the windows of a neighbourhood around a disagreeing
window (a segment of whole windows, re-windowed from its start, must still hold a window where
float and host INT8 give the same two classes), then over time: samples are trimmed from both ends
of what is left while the disagreement holds. A model sees one window, so the floor is one window
of samples (128 = 80 ms at 1.6 kHz).

A case is ``<name>.csv`` (time_s, ax_g, ay_g, az_g, in g, the recording's own timestamps) and
``<name>.json``: the model (fixtures/models name and sha256), the sensor's counts_per_g, the
expected classes per window and where the segment came from.
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from harness.errors import ConfigError
from harness.replay.reader import ChunkedTrace, TraceWarning

CASE_FORMAT = 1


def ddmin(items: Sequence, fails: Callable[[list], bool]) -> list:
    """A 1-minimal subsequence of ``items`` for which ``fails`` holds (it must hold for all)."""
    current = list(items)
    if not fails(current):
        raise ConfigError("ddmin: the full input does not reproduce the failure")
    granularity = 2
    while len(current) >= 2:
        size = len(current) // granularity
        parts = [current[i:i + size] for i in range(0, len(current), size)] if size else [current]
        reduced = False
        for k, part in enumerate(parts):
            if fails(part):
                current, granularity, reduced = part, 2, True
                break
            complement = [x for j, p in enumerate(parts) if j != k for x in p]
            if len(parts) > 2 and fails(complement):
                current, granularity, reduced = complement, max(granularity - 1, 2), True
                break
        if not reduced:
            if granularity >= len(current):
                break
            granularity = min(len(current), 2 * granularity)
    return current


def _segment_windows(g: np.ndarray, window_len: int) -> np.ndarray:
    count = len(g) // window_len
    return g[:count * window_len].reshape(count, window_len, 3)


def reproduces(triage, g: np.ndarray, float_class: str, int8_class: str) -> bool:
    """Does some window of the segment (cut from its start) give these two classes?"""
    windows = _segment_windows(g, triage.window_len)
    if not len(windows):
        return False
    result = triage.run(windows)
    want = (triage.classes.index(float_class), triage.classes.index(int8_class))
    return bool(np.any((result.float_class == want[0]) & (result.int8_class == want[1])))


def read_rows(trace: ChunkedTrace, first_row: int, stop_row: int) -> tuple[np.ndarray, np.ndarray]:
    """time_s and g of file rows [first_row, stop_row) in one streaming pass."""
    times, gs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceWarning)
        for chunk in trace.chunks():
            lo, hi = max(first_row, chunk.first_row), min(stop_row, chunk.first_row + len(chunk))
            if lo < hi:
                times.append(chunk.time_s[lo - chunk.first_row:hi - chunk.first_row])
                gs.append(chunk.g[lo - chunk.first_row:hi - chunk.first_row])
            if chunk.first_row + len(chunk) >= stop_row:
                break
    return np.concatenate(times), np.concatenate(gs)


def shrink(trace: ChunkedTrace, triage, disagreement: dict, neighbourhood: int = 8) -> dict:
    """The smallest segment around ``disagreement`` (a report/journal entry) that reproduces it."""
    L = triage.window_len
    # whole windows before it, so that the window itself is one of the blocks (with a hop under
    # the window length its start need not be a multiple of the window length)
    first = disagreement["start_row"] - L * min(neighbourhood, disagreement["start_row"] // L)
    time_s, g = read_rows(trace, first, disagreement["start_row"] + (neighbourhood + 1) * L)
    want = (disagreement["float_class"], disagreement["int8_class"])
    tests = 0

    def fails_rows(rows: np.ndarray) -> bool:
        nonlocal tests
        tests += 1
        return reproduces(triage, g[rows], *want)

    blocks = [np.arange(k * L, (k + 1) * L) for k in range(len(g) // L)]
    kept = ddmin(blocks, lambda subset: fails_rows(np.concatenate(subset)))
    window_tests = tests
    # over time: keep the contiguous span of what ddmin kept, then trim both ends by bisection
    lo, hi = int(kept[0][0]), int(kept[-1][-1]) + 1
    if not fails_rows(np.arange(lo, hi)):   # a non-contiguous subset: fall back to one block
        lo, hi = int(kept[0][0]), int(kept[0][-1]) + 1
    for side in ("front", "back"):
        step = (hi - lo - L) // 2
        while step >= 1:
            trial = (lo + step, hi) if side == "front" else (lo, hi - step)
            if trial[1] - trial[0] >= L and fails_rows(np.arange(*trial)):
                lo, hi = trial
            else:
                step //= 2
    return {"time_s": time_s[lo:hi], "g": g[lo:hi], "first_row": first + lo, "rows": hi - lo,
            "neighbourhood_rows": len(g), "window_tests": window_tests, "time_tests": tests - window_tests,
            "float_class": want[0], "int8_class": want[1]}


def _bundle_entry(triage, cases: Path) -> dict:
    """A team's bundle (not a fixtures/models one): where it is, relative to the case."""
    import os

    from harness.paths import MODELS_DIR
    if Path(triage.json_path).resolve().parent == Path(MODELS_DIR).resolve():
        return {}
    return {"bundle": os.path.relpath(Path(triage.json_path).resolve(), cases.resolve())}


def save_case(cases_dir, name: str, segment: dict, triage, source: dict,
              disagreement: dict) -> Path:
    """Write ``<name>.csv`` and ``<name>.json`` into ``cases_dir``; returns the JSON path."""
    import pandas as pd
    cases = Path(cases_dir)
    cases.mkdir(parents=True, exist_ok=True)
    csv_path = cases / f"{name}.csv"
    g = segment["g"]
    pd.DataFrame({"time_s": segment["time_s"], "ax_g": g[:, 0], "ay_g": g[:, 1], "az_g": g[:, 2]}
                 ).to_csv(csv_path, index=False, float_format="%.9g")
    result = triage.run(_segment_windows(g, triage.window_len))
    case = {
        "format": CASE_FORMAT, "name": name,
        "trace": csv_path.name, "units": "g", "counts_per_g": triage.counts_per_g,
        "model": triage.name, "model_sha256": triage.fingerprint()["int8_sha256"],
        **_bundle_entry(triage, cases),
        "float_model_sha256": triage.fingerprint()["float_sha256"],
        "expected": {
            "verdict": "float and host INT8 disagree",
            "windows": [{"window": k, "float_class": triage.classes[f], "int8_class": triage.classes[q],
                         "int8_codes": [int(c) for c in codes]}
                        for k, (f, q, codes) in enumerate(zip(result.float_class, result.int8_class,
                                                              result.int8_codes))]},
        "provenance": {**source, "first_row": int(segment["first_row"]), "rows": int(segment["rows"]),
                       "start_s": float(segment["time_s"][0]), "window_index": disagreement["index"],
                       "recording_label": disagreement.get("label"),
                       "shrunk_from_rows": int(segment["neighbourhood_rows"]),
                       "ddmin_window_tests": segment["window_tests"],
                       "time_trim_tests": segment["time_tests"],
                       "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "tool": "hil replay --shrink"},
    }
    path = cases / f"{name}.json"
    path.write_text(json.dumps(case, indent=1, sort_keys=True) + "\n")
    return path
