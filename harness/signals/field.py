"""Field recordings: import with a column mapping and units, validate, resample, cut into windows.

Errors name the row and column. Rows count data rows from 0 (the header is not a row); for a CSV
the message also gives the file line (row + 2), which is what an editor shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from harness.errors import TraceError
from harness.signals.schema import (
    AXIS_COLUMNS, DEFAULT_RATE_HZ, DEFAULT_WINDOW_LEN, EVENT_COLUMN, LABEL_COLUMN, LABEL_SEVERITY,
    LABELS, STANDARD_GRAVITY_M_S2, TIME_COLUMN, axes_g, check_time, make_trace, trace_rate_hz)

#: unit name -> factor to g (counts need the sensor's counts_per_g)
UNITS_TO_G = {"g": 1.0, "mg": 1e-3, "m/s2": 1.0 / STANDARD_GRAVITY_M_S2,
              "m/s^2": 1.0 / STANDARD_GRAVITY_M_S2, "counts": None}
TIME_UNITS_TO_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


# A recording in g whose median magnitude is this far above 1 g is almost surely m/s^2 (about
# 9.8 with gravity, 2-15 for motion with gravity removed) or mg read as g.
SUSPICIOUS_MEDIAN_G = 2.5


def check_units_g(g: np.ndarray, source: str, units: str) -> None:
    """Values declared in g that look like m/s^2 or mg: refuse, naming the unit to declare."""
    magnitude = float(np.median(np.linalg.norm(g, axis=1)))
    if magnitude > 200.0:
        raise TraceError(f"median acceleration magnitude is {magnitude:.3g} g: the recording looks like mg "
                         f"read as g (declared units '{units}'); declare units 'mg'", source=source)
    if magnitude > SUSPICIOUS_MEDIAN_G:
        raise TraceError(f"median acceleration magnitude is {magnitude:.3g} g (declared units '{units}'): about "
                         "9.8 is gravity in m/s^2, and 2-15 is motion in m/s^2 with gravity removed; declare "
                         "units 'm/s2'", source=source)


class TraceSource:
    """Where a table came from (file, or None for a DataFrame): the row/column/file context of a
    TraceError, with the file line for a CSV."""

    def __init__(self, source: str | None, csv: bool):
        self.source = source
        self.csv = csv

    def error(self, message: str, row: int | None = None, column: str | None = None) -> TraceError:
        if row is not None and self.csv:
            message += f" (file line {row + 2})"
        return TraceError(message, row=row, column=column, source=self.source)


def read_table(source) -> tuple[pd.DataFrame, TraceSource]:
    """A CSV or Parquet file (or a DataFrame, as is) and where it came from; TraceError naming the
    file when it is missing, unreadable or of another format."""
    if isinstance(source, pd.DataFrame):
        return source, TraceSource(None, csv=False)
    path = Path(source)
    readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise TraceError(f"unknown recording format '{path.suffix}'; use .csv or .parquet",
                         source=str(path))
    if not path.is_file():
        raise TraceError("file not found", source=str(path))
    try:
        return reader(path), TraceSource(str(path), csv=path.suffix.lower() == ".csv")
    except (OSError, ValueError) as e:
        raise TraceError(f"cannot read recording: {e}", source=str(path)) from e


def numeric_column(raw: pd.Series, name: str, where: TraceSource) -> np.ndarray:
    """A column as float64; TraceError naming the first row (and file line) that is not a finite number."""
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise where.error(f"value {raw.iloc[row]!r} is not a finite number "
                          f"({int(bad.sum())} bad value(s) in this column)", row=row, column=name)
    return values


def import_recording(source, columns: Mapping[str, str] | None = None, units: str = "g",
                     counts_per_g: float | None = None, time_unit: str = "s",
                     rate_hz: float | None = None, gap_factor: float = 1.5,
                     allow_gaps: bool = False, check_units: bool = True,
                     classes: Sequence[str] | None = None) -> pd.DataFrame:
    """A CSV/Parquet file (or DataFrame) -> schema trace in g.

    ``columns`` maps schema names to the recording's names, e.g.
    ``{"time_s": "timestamp", "ax_g": "X", "ay_g": "Y", "az_g": "Z", "label": "state"}``;
    missing entries default to the schema name. Without a time column, pass ``rate_hz``.
    ``units``: g, mg, m/s2 or counts (then ``counts_per_g`` is the sensor's LSB per g).
    A sample interval over ``gap_factor`` times the median is a gap: an error unless
    ``allow_gaps``. ``check_units`` rejects values that look like m/s^2 or mg read as g.
    ``classes``: the labels a model bundle allows (default: the schema's LABELS); the label
    column is then a categorical over them, and ``attrs["labelled"]`` says whether the file had one.
    """
    raw, where = read_table(source)
    mapping = {name: name for name in (TIME_COLUMN, *AXIS_COLUMNS, LABEL_COLUMN)}
    mapping.update(columns or {})
    if units not in UNITS_TO_G:
        raise TraceError(f"unknown units '{units}'; use one of {', '.join(UNITS_TO_G)}",
                         source=where.source)
    if time_unit not in TIME_UNITS_TO_S:
        raise TraceError(f"unknown time unit '{time_unit}'; use one of {', '.join(TIME_UNITS_TO_S)}",
                         source=where.source)
    if len(raw) == 0:
        raise where.error("recording is empty (no data rows)")
    for name in AXIS_COLUMNS:
        if mapping[name] not in raw.columns:
            raise where.error(f"missing column '{mapping[name]}' (for {name}); recording has "
                              f"{list(raw.columns)}", column=mapping[name])

    factor = UNITS_TO_G[units]
    if factor is None:
        if counts_per_g is None or not (np.isfinite(counts_per_g) and counts_per_g > 0):
            raise TraceError("units='counts' needs the sensor sensitivity counts_per_g (LSB per g)",
                             source=where.source)
        factor = 1.0 / counts_per_g
    g = np.column_stack([numeric_column(raw[mapping[name]], mapping[name], where) for name in AXIS_COLUMNS])
    g *= factor

    if mapping[TIME_COLUMN] in raw.columns:
        time_s = numeric_column(raw[mapping[TIME_COLUMN]], mapping[TIME_COLUMN], where)
        time_s = time_s * TIME_UNITS_TO_S[time_unit]
        try:
            check_time(time_s, source=where.source, column=mapping[TIME_COLUMN])
        except TraceError as e:
            raise where.error(str(e).split(": ", 1)[-1], row=e.row, column=e.column) from e
    elif rate_hz is not None:
        time_s = np.arange(len(raw)) / float(rate_hz)
    else:
        raise where.error(f"missing column '{mapping[TIME_COLUMN]}' (for {TIME_COLUMN}) and no "
                          "rate_hz given", column=mapping[TIME_COLUMN])

    if len(time_s) >= 3:
        step = np.diff(time_s)
        median_step = float(np.median(step))
        gaps = np.flatnonzero(step > gap_factor * median_step)
        if gaps.size and not allow_gaps:
            row = int(gaps[0]) + 1
            missing = step[gaps[0]] / median_step - 1
            raise where.error(f"gap of {step[gaps[0]]:.6g} s before this row (about {missing:.0f} "
                              f"missing samples at {1 / median_step:.6g} Hz; {gaps.size} gap(s) in "
                              "all); resample with allow_gaps=True if that is expected",
                              row=row, column=mapping[TIME_COLUMN])

    if check_units and units in ("g", "counts"):
        # one rule for every reader (harness.bundle.recordings): it also catches m/s^2 with
        # gravity removed (median 2-15), which the old 5-20 window let through
        check_units_g(g, where.source, units)

    allowed = LABELS if classes is None else tuple(classes)
    labels = None
    labelled = mapping[LABEL_COLUMN] in raw.columns
    if labelled:
        labels = raw[mapping[LABEL_COLUMN]].astype(object).to_numpy()
        unknown = ~pd.Series(labels).isin(allowed).to_numpy()
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            what = "labels are" if classes is None else "the model's classes are"
            raise where.error(f"unknown label {labels[row]!r} ({int(unknown.sum())} such row(s)); "
                              f"{what} {', '.join(allowed)}", row=row, column=mapping[LABEL_COLUMN])
    nominal = rate_hz if rate_hz is not None else (1.0 / float(np.median(np.diff(time_s)))
                                                   if len(time_s) > 1 else None)
    trace = make_trace(time_s, g, labels if classes is None else None, rate_hz=nominal,
                       **({"source": where.source} if where.source else {}))
    if classes is not None:
        trace[LABEL_COLUMN] = (pd.Categorical(labels, categories=allowed) if labelled else
                               pd.Categorical.from_codes(np.zeros(len(trace), dtype=np.int8), categories=allowed))
    trace.attrs["labelled"] = bool(labelled)
    return trace


def window_labels(codes_per_window: np.ndarray, categories: Sequence[str]) -> np.ndarray:
    """One label code per window from its samples' codes (n_windows, window_len): the schema's
    labels take the most severe (impact > pre_failure > normal); any other classes (a bundle's)
    have no order, so a window takes its most frequent label (ties: the first class)."""
    codes_per_window = np.asarray(codes_per_window)
    if tuple(categories) == LABELS:
        severity = np.array([LABEL_SEVERITY[label] for label in LABELS], dtype=np.int8)
        return severity[codes_per_window].max(axis=1).astype(np.int8) if codes_per_window.size else \
            np.empty(len(codes_per_window), dtype=np.int8)
    if not codes_per_window.size:
        return np.empty(len(codes_per_window), dtype=np.int8)
    counts = (codes_per_window[:, :, None] == np.arange(len(categories))).sum(axis=1)
    return counts.argmax(axis=1).astype(np.int8)


def _anti_alias(g: np.ndarray, source_rate_hz: float, target_rate_hz: float) -> np.ndarray:
    """Windowed-sinc low-pass at 0.45 x the target rate, before decimating."""
    cutoff = 0.45 * target_rate_hz / source_rate_hz          # cycles per source sample
    taps = 8 * int(np.ceil(source_rate_hz / target_rate_hz)) * 2 + 1
    n = np.arange(taps) - taps // 2
    kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
    kernel /= kernel.sum()
    padded = np.pad(g, ((taps // 2, taps // 2), (0, 0)), mode="edge")
    return np.column_stack([np.convolve(padded[:, a], kernel, mode="valid") for a in range(g.shape[1])])


def resample(trace: pd.DataFrame, rate_hz: float = DEFAULT_RATE_HZ) -> pd.DataFrame:
    """Onto a uniform grid at ``rate_hz`` from the first sample: linear interpolation, after an
    anti-alias low-pass when the source is faster. Labels and event ids: the sample at or before."""
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise TraceError(f"rate_hz must be > 0, got {rate_hz}")
    time_s = trace[TIME_COLUMN].to_numpy(dtype=np.float64)
    if len(time_s) < 2:
        raise TraceError(f"need at least 2 samples to resample, got {len(time_s)}")
    g = axes_g(trace)
    source_rate = 1.0 / float(np.median(np.diff(time_s)))
    if source_rate > 1.01 * rate_hz:
        g = _anti_alias(g, source_rate, rate_hz)
    grid = time_s[0] + np.arange(int(np.floor((time_s[-1] - time_s[0]) * rate_hz + 1e-9)) + 1) / rate_hz
    resampled = np.column_stack([np.interp(grid, time_s, g[:, a]) for a in range(3)])
    before = np.clip(np.searchsorted(time_s, grid + 1e-12, side="right") - 1, 0, len(time_s) - 1)
    labels = trace[LABEL_COLUMN].cat.codes.to_numpy()[before] if LABEL_COLUMN in trace else None
    events = trace[EVENT_COLUMN].to_numpy()[before] if EVENT_COLUMN in trace else None
    out = make_trace(grid, resampled, labels, events, rate_hz=rate_hz)
    out.attrs = {**trace.attrs, "rate_hz": float(rate_hz)}
    return out


@dataclass(frozen=True)
class Windows:
    """Model-ready windows: ``samples`` (n_windows, window_len, 3) in g, one label and start time
    each. A window's label is the most severe among its samples (impact > pre_failure > normal),
    or for a bundle's classes the most frequent (``window_labels``)."""

    samples: np.ndarray
    labels: np.ndarray
    start_s: np.ndarray
    rate_hz: float

    def __len__(self) -> int:
        return len(self.samples)


def cut_windows(trace: pd.DataFrame, window_len: int = DEFAULT_WINDOW_LEN, hop: int | None = None,
                rate_hz: float | None = None, tolerance: float = 0.01) -> Windows:
    """Cut a uniformly sampled trace into windows of ``window_len`` samples every ``hop`` samples
    (default: no overlap). Non-uniform sampling (gaps) raises: resample first."""
    hop = window_len if hop is None else hop
    if window_len < 1 or hop < 1:
        raise TraceError(f"window_len and hop must be >= 1, got {window_len}, {hop}")
    n = len(trace)
    if n < window_len:
        raise TraceError(f"trace has {n} samples, fewer than one window of {window_len}")
    time_s = trace[TIME_COLUMN].to_numpy(dtype=np.float64)
    rate = float(rate_hz) if rate_hz is not None else trace_rate_hz(trace)
    step = np.diff(time_s)
    off = np.flatnonzero(np.abs(step * rate - 1.0) > tolerance)
    if off.size:
        row = int(off[0]) + 1
        raise TraceError(f"sample interval {step[off[0]]:.6g} s differs from 1/{rate:g} Hz; "
                         "resample() the trace before cutting windows", row=row, column=TIME_COLUMN)
    starts = np.arange(0, n - window_len + 1, hop)
    g = axes_g(trace)
    view = np.lib.stride_tricks.sliding_window_view(g, window_len, axis=0)[::hop]  # (w, 3, len)
    samples = np.ascontiguousarray(view.transpose(0, 2, 1))
    categories = list(trace[LABEL_COLUMN].cat.categories)
    codes = trace[LABEL_COLUMN].cat.codes.to_numpy()
    chosen = window_labels(np.lib.stride_tricks.sliding_window_view(codes, window_len)[::hop], categories)
    labels = np.array(categories, dtype=object)[chosen]
    return Windows(samples=samples, labels=labels, start_s=time_s[starts], rate_hz=rate)
