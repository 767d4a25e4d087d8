"""The one DataFrame schema for accelerometer traces.

==========  =========  ==========================================================================
column      dtype      meaning
==========  =========  ==========================================================================
time_s      float64    sample time in seconds, strictly increasing (gaps only where samples dropped)
ax_g        float64    acceleration along x in g (1 g = 9.80665 m/s^2), gravity included
ay_g        float64    acceleration along y in g
az_g        float64    acceleration along z in g (vertical: +1 g at rest)
label       category   ground truth per sample: normal | pre_failure | impact
event_id    int32      shock event number for impact samples, -1 elsewhere
==========  =========  ==========================================================================

``df.attrs`` may carry ``rate_hz`` (nominal sample rate), ``scenario`` and ``seed``; readers fall
back to the median sample interval when ``rate_hz`` is missing (CSV keeps no attrs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.errors import TraceError

TIME_COLUMN = "time_s"
AXIS_COLUMNS = ("ax_g", "ay_g", "az_g")
LABEL_COLUMN = "label"
EVENT_COLUMN = "event_id"
COLUMNS = (TIME_COLUMN, *AXIS_COLUMNS, LABEL_COLUMN, EVENT_COLUMN)

LABELS = ("normal", "pre_failure", "impact")
#: a window takes the most severe label among its samples
LABEL_SEVERITY = {label: rank for rank, label in enumerate(LABELS)}

DEFAULT_RATE_HZ = 1600.0
DEFAULT_WINDOW_LEN = 128
STANDARD_GRAVITY_M_S2 = 9.80665


def make_trace(time_s, g, labels=None, event_id=None, rate_hz: float | None = None,
               **attrs) -> pd.DataFrame:
    """Assemble a schema DataFrame from arrays (g has shape (n, 3); labels as strings or as
    integer codes into LABELS)."""
    time_s = np.asarray(time_s, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    n = len(time_s)
    if g.shape != (n, 3):
        raise TraceError(f"g must have shape ({n}, 3) to match time_s, got {g.shape}")
    if labels is None:
        labels = np.zeros(n, dtype=np.int8)
    labels = np.asarray(labels)
    if np.issubdtype(labels.dtype, np.integer):  # codes into LABELS
        label_column = pd.Categorical.from_codes(labels, categories=LABELS)
    else:
        label_column = pd.Categorical(labels.astype(object), categories=LABELS)
    if event_id is None:
        event_id = np.full(n, -1, dtype=np.int32)
    df = pd.DataFrame({
        TIME_COLUMN: time_s,
        AXIS_COLUMNS[0]: g[:, 0], AXIS_COLUMNS[1]: g[:, 1], AXIS_COLUMNS[2]: g[:, 2],
        LABEL_COLUMN: label_column,
        EVENT_COLUMN: np.asarray(event_id, dtype=np.int32),
    })
    if rate_hz is not None:
        df.attrs["rate_hz"] = float(rate_hz)
    df.attrs.update(attrs)
    return df


def validate_trace(df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Check a trace against the schema; returns it with canonical dtypes. Raises TraceError."""
    for column in (TIME_COLUMN, *AXIS_COLUMNS):
        if column not in df.columns:
            raise TraceError(f"missing column; trace columns are {list(df.columns)}",
                             column=column, source=source)
    if len(df) == 0:
        raise TraceError("trace is empty (no samples)", source=source)
    out = df.copy()
    out.attrs = dict(df.attrs)
    for column in (TIME_COLUMN, *AXIS_COLUMNS):
        values = pd.to_numeric(out[column], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise TraceError(f"value {df[column].iloc[row]!r} is not a finite number "
                             f"({int(bad.sum())} such values)", row=row, column=column, source=source)
        out[column] = values
    check_time(out[TIME_COLUMN].to_numpy(), source=source)
    if LABEL_COLUMN in out.columns:
        labels = out[LABEL_COLUMN].astype(object)
        unknown = ~labels.isin(LABELS)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise TraceError(f"unknown label {labels.iloc[row]!r}; labels are {', '.join(LABELS)}",
                             row=row, column=LABEL_COLUMN, source=source)
        out[LABEL_COLUMN] = pd.Categorical(labels, categories=LABELS)
    else:
        out[LABEL_COLUMN] = pd.Categorical(["normal"] * len(out), categories=LABELS)
    if EVENT_COLUMN in out.columns:
        out[EVENT_COLUMN] = pd.to_numeric(out[EVENT_COLUMN], errors="coerce").fillna(-1).astype(np.int32)
    else:
        out[EVENT_COLUMN] = np.full(len(out), -1, dtype=np.int32)
    return out[list(COLUMNS)].reset_index(drop=True)


def check_time(time_s: np.ndarray, source: str | None = None, column: str = TIME_COLUMN):
    """Strictly increasing time; names the first offending row."""
    step = np.diff(time_s)
    duplicate = np.flatnonzero(step == 0)
    backwards = np.flatnonzero(step < 0)
    if backwards.size and (not duplicate.size or backwards[0] < duplicate[0]):
        row = int(backwards[0]) + 1
        raise TraceError(f"time goes backwards ({time_s[row - 1]!r} -> {time_s[row]!r}); "
                         "time must be strictly increasing", row=row, column=column, source=source)
    if duplicate.size:
        row = int(duplicate[0]) + 1
        raise TraceError(f"duplicated timestamp {time_s[row]!r} (same as row {row - 1})",
                         row=row, column=column, source=source)


def axes_g(df: pd.DataFrame) -> np.ndarray:
    """The three axes as an (n, 3) float64 array."""
    return df[list(AXIS_COLUMNS)].to_numpy(dtype=np.float64)


def trace_rate_hz(df: pd.DataFrame) -> float:
    """Nominal sample rate: attrs['rate_hz'], else 1 / median sample interval."""
    if "rate_hz" in df.attrs:
        return float(df.attrs["rate_hz"])
    if len(df) < 2:
        raise TraceError("cannot infer the sample rate from fewer than 2 samples")
    return float(1.0 / np.median(np.diff(df[TIME_COLUMN].to_numpy(dtype=np.float64))))
