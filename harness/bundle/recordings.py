"""A team's own recordings, read as the bundle declares them: axis columns, units, label column.

Rows count data rows from 0; for a CSV the message also gives the file line (row + 2). Values
come back in g; labels as the recording spells them, checked against the bundle's classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.bundle.spec import Recording, Sensor
from harness.errors import TraceError
from harness.signals.field import UNITS_TO_G, check_units_g, numeric_column, read_table

@dataclass(frozen=True)
class RecordedData:
    g: np.ndarray                 # (samples, axes) float64, in g
    labels: np.ndarray | None     # (samples,) object: the recording's label per sample
    source: str


def read_recording(recording: Recording, sensor: Sensor, classes=None) -> RecordedData:
    """The recording's axis columns in g (and its labels, checked against ``classes``)."""
    raw, where = read_table(recording.file)
    if len(raw) == 0:
        raise where.error("recording is empty (no data rows)")
    for column in recording.columns + ((recording.label_column,) if recording.label_column else ()):
        if column not in raw.columns:
            raise where.error(f"missing column '{column}'; the recording has {list(raw.columns)}", column=column)
    g = np.column_stack([numeric_column(raw[c], c, where) for c in recording.columns]) * UNITS_TO_G[recording.units]
    if recording.units == "g":
        check_units_g(g, str(recording.file), recording.units)
    over = np.abs(g) > sensor.full_scale_g * 1.0001
    if over.any():
        row, axis = (int(i) for i in np.argwhere(over)[0])
        raise where.error(f"{g[row, axis]:.4g} g is beyond the sensor's full scale of {sensor.full_scale_g:g} g "
                          f"({int(over.sum())} such value(s))", row=row, column=recording.columns[axis])
    labels = None
    if recording.label_column:
        labels = raw[recording.label_column].astype(object).to_numpy()
        if classes is not None:
            unknown = ~np.isin(labels.astype(str), np.asarray(list(classes), dtype=str))
            if unknown.any():
                row = int(np.flatnonzero(unknown)[0])
                raise where.error(f"label {labels[row]!r} is not one of the bundle's classes {list(classes)}",
                                  row=row, column=recording.label_column)
            labels = labels.astype(str)
    return RecordedData(g, labels, str(recording.file))


def uniform_windows(data: RecordedData, window_len: int, hop: int, classes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(windows (n, window_len, axes) g, label index per window, first row per window): windows
    whose samples all carry one label; a window across a label change is not a clean example."""
    n = len(data.g)
    if n < window_len:
        raise TraceError(f"has {n} samples, fewer than one window of {window_len}", source=data.source)
    starts = np.arange(0, n - window_len + 1, hop)
    index = {c: i for i, c in enumerate(classes)}
    codes = np.array([index[label] for label in data.labels], dtype=np.int64)
    view = np.lib.stride_tricks.sliding_window_view(codes, window_len)[::hop]
    clean = (view == view[:, :1]).all(axis=1)
    windows = np.stack([data.g[s:s + window_len] for s in starts[clean]]) if clean.any() else \
        np.zeros((0, window_len, data.g.shape[1]))
    return windows, view[clean, 0], starts[clean]
