"""Stream a long recording in chunks: the signals core's import per chunk, state across chunks.

``harness.signals.field.import_recording`` loads a whole file. A day at 1.6 kHz on three axes is
138 M samples (over 4 GB as float64 with its time column), so :class:`ChunkedTrace` reads
``chunk_rows`` rows at a time (Parquet row batches, CSV chunks), runs each chunk through
``import_recording`` (column mapping, units, finite values, time order, units mix-ups) and adds
what one chunk cannot see: the time step across chunk boundaries (duplicates, backwards time,
gaps) and the nominal rate. Row numbers in errors are file rows (data rows from 0), as in
``import_recording``; for a CSV the message also gives the file line.

:class:`Windower` cuts the chunks into model windows, carrying the partial window across chunk
boundaries. Nothing is dropped silently: samples that cannot fill a window (before a gap, at the
end) are counted and reported with their rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from harness.errors import TraceError
from harness.signals.field import TIME_UNITS_TO_S, import_recording, window_labels
from harness.signals.schema import AXIS_COLUMNS, LABEL_COLUMN, LABELS, TIME_COLUMN

DEFAULT_CHUNK_ROWS = 65536
GAP_FACTOR = 1.5
RATE_TOLERANCE = 0.01


class TraceWarning(UserWarning):
    """Something in the recording the replay worked around (a gap with allow_gaps, a tail too
    short for a window); the message names the row."""


@dataclass(frozen=True)
class TraceChunk:
    """Validated samples of one chunk: ``first_row`` is the file row of ``time_s[0]``."""

    first_row: int
    time_s: np.ndarray
    g: np.ndarray          # (n, 3) float64, g
    labels: np.ndarray     # (n,) int8 codes into the classes (the first when the file has no labels)
    labelled: bool = True  # the file has a label column

    def __len__(self) -> int:
        return len(self.time_s)


@dataclass(frozen=True)
class WindowBatch:
    """Consecutive windows, ``index`` numbering them over the whole recording."""

    index: np.ndarray       # (n,) int64
    start_row: np.ndarray   # (n,) int64 file row of each window's first sample
    start_s: np.ndarray     # (n,) float64
    g: np.ndarray           # (n, window_len, 3) float64
    labels: np.ndarray      # (n,) int8: the window's label (harness.signals.field.window_labels)

    def __len__(self) -> int:
        return len(self.index)


def _raw_chunks(path: Path, chunk_rows: int, columns: list[str] | None) -> Iterator[pd.DataFrame]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq
            # pre_buffer=False: the default pre-buffers column chunks and keeps them, so the
            # whole compressed file ends up in Arrow's pool (measured: 22 MB of a 22 MB file)
            parquet = pq.ParquetFile(path, pre_buffer=False)
            present = set(parquet.schema_arrow.names)
            wanted = [c for c in columns if c in present] if columns else None
            for batch in parquet.iter_batches(batch_size=chunk_rows, columns=wanted):
                yield batch.to_pandas()
        elif suffix == ".csv":
            yield from pd.read_csv(path, chunksize=chunk_rows)
        else:
            raise TraceError(f"unknown recording format '{path.suffix}'; use .csv or .parquet",
                             source=str(path))
    except (OSError, ValueError) as e:
        raise TraceError(f"cannot read recording: {e}", source=str(path)) from e


class ChunkedTrace:
    """A recording read in chunks of ``chunk_rows`` rows, each validated, in g.

    Options as ``import_recording``; ``rate_hz`` is the rate the samples must have (the model's):
    the replay does not resample a stream, so a recording at another rate is an error naming the
    measured rate. A step over ``GAP_FACTOR`` times ``1 / rate_hz`` is a gap: an error unless
    ``allow_gaps``, then a :class:`TraceWarning` and the windows restart after it.
    ``classes``: the labels the model knows (a bundle's classes; default the schema's LABELS).
    """

    def __init__(self, path, columns: Mapping[str, str] | None = None, units: str = "g",
                 counts_per_g: float | None = None, time_unit: str = "s",
                 rate_hz: float = 1600.0, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                 allow_gaps: bool = False, check_units: bool = True, classes=None):
        self.path = Path(path)
        if not self.path.is_file():
            raise TraceError("file not found", source=str(self.path))
        if chunk_rows < 2:
            raise TraceError(f"chunk_rows must be >= 2, got {chunk_rows}")
        if time_unit not in TIME_UNITS_TO_S:
            raise TraceError(f"unknown time unit '{time_unit}'", source=str(self.path))
        self.columns = dict(columns or {})
        self.units = units
        self.counts_per_g = counts_per_g
        self.time_unit = time_unit
        self.rate_hz = float(rate_hz)
        self.chunk_rows = int(chunk_rows)
        self.allow_gaps = allow_gaps
        self.check_units = check_units
        self.classes = tuple(classes) if classes is not None else LABELS
        self.csv = self.path.suffix.lower() == ".csv"

    def params(self) -> dict:
        """Everything that changes what the chunks hold (part of the replay fingerprint)."""
        return {"columns": dict(sorted(self.columns.items())), "units": self.units,
                "counts_per_g_units": self.counts_per_g, "time_unit": self.time_unit,
                "rate_hz": self.rate_hz, "chunk_rows": self.chunk_rows,
                "allow_gaps": self.allow_gaps, "check_units": self.check_units,
                **({"classes": list(self.classes)} if self.classes != LABELS else {})}

    def total_rows(self) -> int | None:
        """Rows in the file if the format says so without reading it (Parquet), else None."""
        if self.path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq
            return int(pq.ParquetFile(self.path).metadata.num_rows)
        return None

    def _error(self, message: str, row: int | None, column: str | None = None) -> TraceError:
        if row is not None and self.csv:
            message += f" (file line {row + 2})"
        return TraceError(message, row=row, column=column, source=str(self.path))

    def _mapped(self, name: str) -> str:
        return self.columns.get(name, name)

    def _import(self, raw: pd.DataFrame, first_row: int) -> pd.DataFrame:
        has_time = self._mapped(TIME_COLUMN) in raw.columns
        try:
            trace = import_recording(raw.reset_index(drop=True), self.columns, self.units,
                                     self.counts_per_g, self.time_unit,
                                     rate_hz=None if has_time else self.rate_hz,
                                     allow_gaps=True, check_units=self.check_units,
                                     classes=None if self.classes == LABELS else self.classes)
        except TraceError as e:
            text = str(e)
            if e.row is not None or e.column is not None:
                text = text.split(": ", 1)[-1]
            if e.row is None and "median acceleration" in text:
                text += f" (in the {len(raw)} rows from this one)"
                raise self._error(text, first_row, e.column) from e
            raise self._error(text, None if e.row is None else e.row + first_row, e.column) from e
        if not has_time:
            trace[TIME_COLUMN] = trace[TIME_COLUMN].to_numpy() + first_row / self.rate_hz
        return trace

    def chunks(self) -> Iterator[TraceChunk]:
        """Validated chunks in file order. Raises TraceError naming the file row."""
        wanted = [self._mapped(c) for c in (TIME_COLUMN, *AXIS_COLUMNS, LABEL_COLUMN)]
        first_row = 0
        last_time: float | None = None
        step_s = 1.0 / self.rate_hz
        time_column = self._mapped(TIME_COLUMN)
        for raw in _raw_chunks(self.path, self.chunk_rows, wanted):
            if len(raw) == 0:
                continue
            trace = self._import(raw, first_row)
            time_s = trace[TIME_COLUMN].to_numpy(dtype=np.float64)
            if last_time is None and len(time_s) >= 3:
                measured = 1.0 / float(np.median(np.diff(time_s)))
                if abs(measured / self.rate_hz - 1.0) > RATE_TOLERANCE:
                    raise self._error(f"samples are {measured:.6g} Hz apart, the model runs at "
                                      f"{self.rate_hz:g} Hz; resample the recording first "
                                      "(harness.signals.field.resample)", first_row, time_column)
            joined = time_s if last_time is None else np.concatenate([[last_time], time_s])
            offset = first_row if last_time is None else first_row - 1
            step = np.diff(joined)
            bad = np.flatnonzero(step <= 0)
            if bad.size:  # inside a chunk import_recording already caught it: a boundary
                row = int(bad[0]) + 1 + offset
                kind = "duplicated timestamp" if step[bad[0]] == 0 else "time goes backwards at"
                raise self._error(f"{kind} {joined[bad[0] + 1]!r} (previous row has "
                                  f"{joined[bad[0]]!r}); time must be strictly increasing",
                                  row, time_column)
            gaps = np.flatnonzero(step > GAP_FACTOR * step_s)
            for gap in gaps:
                row = int(gap) + 1 + offset
                missing = step[gap] / step_s - 1
                message = (f"gap of {step[gap]:.6g} s before this row (about {missing:.0f} "
                           f"missing samples at {self.rate_hz:g} Hz)")
                if not self.allow_gaps:
                    raise self._error(message + "; pass allow_gaps (--allow-gaps) to replay the "
                                      "pieces between gaps", row, time_column)
                warnings.warn(str(self._error(message + "; windows restart after it", row,
                                              time_column)), TraceWarning, stacklevel=2)
            labels = trace[LABEL_COLUMN].cat.codes.to_numpy().astype(np.int8)
            g = trace[list(AXIS_COLUMNS)].to_numpy(dtype=np.float64)
            yield TraceChunk(first_row, time_s, g, labels, self._mapped(LABEL_COLUMN) in raw.columns)
            last_time = float(time_s[-1])
            first_row += len(raw)
        if first_row == 0:
            raise self._error("recording is empty (no data rows)", None)


@dataclass
class Windower:
    """Cuts chunks into windows of ``window_len`` samples every ``hop`` samples (default: no
    overlap), carrying the partial window across chunk boundaries; a gap (step over
    GAP_FACTOR / rate_hz) restarts the windows. A window's label follows ``window_labels`` over
    ``classes``.

    ``dropped`` lists (first_row, samples, why) of samples that fill no window, with a
    TraceWarning for each; ``finish()`` accounts for the tail at the end of the recording."""

    window_len: int
    rate_hz: float
    hop: int | None = None
    classes: tuple = LABELS
    dropped: list = field(default_factory=list)
    windows: int = 0
    rows: int = 0
    _time: np.ndarray = field(default_factory=lambda: np.empty(0))
    _g: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))
    _labels: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    _first_row: int = 0
    _last_time: float | None = None
    _covered: int = 0      # leading buffered samples already inside a window (overlap, hop < window)

    def __post_init__(self):
        self.hop = self.window_len if self.hop is None else int(self.hop)
        if not 1 <= self.hop <= self.window_len:
            raise TraceError(f"hop must be 1..{self.window_len} (the window length), got {self.hop}")

    def _drop(self, why: str, source: str, warn: Callable | None = None):
        unused = len(self._time) - self._covered
        if unused > 0:
            first = self._first_row + self._covered
            self.dropped.append({"first_row": int(first), "samples": int(unused),
                                 "start_s": float(self._time[self._covered]), "why": why})
            warnings.warn(f"{source}: rows {first}-{first + unused - 1}: "
                          f"{unused} sample(s) {why} fill no window of {self.window_len}; "
                          "not replayed", TraceWarning, stacklevel=3)

    def feed(self, chunk: TraceChunk, source: str = "recording") -> WindowBatch:
        self.rows += len(chunk)
        previous = chunk.time_s[0] if self._last_time is None else self._last_time
        step = np.diff(np.concatenate([[previous], chunk.time_s]))
        after_gap = set(np.flatnonzero(step > GAP_FACTOR / self.rate_hz).tolist())
        bounds = sorted({0, len(chunk), *after_gap})
        batches = []
        for start, stop in zip(bounds[:-1], bounds[1:]):
            if start in after_gap:
                self._drop("before a gap", source)
                self._reset(chunk.first_row + start)
            if not len(self._time):
                self._first_row = chunk.first_row + start
            batches.append(self._cut(chunk.time_s[start:stop], chunk.g[start:stop],
                                     chunk.labels[start:stop]))
        self._last_time = float(chunk.time_s[-1])
        return _concat(batches, self.window_len)

    def _reset(self, first_row: int):
        self._time = np.empty(0)
        self._g = np.empty((0, 3))
        self._labels = np.empty(0, dtype=np.int8)
        self._first_row = first_row
        self._covered = 0

    def _cut(self, time_s, g, labels) -> WindowBatch:
        time_s = np.concatenate([self._time, time_s])
        g = np.concatenate([self._g, g])
        labels = np.concatenate([self._labels, labels])
        L, hop = self.window_len, self.hop
        count = (len(time_s) - L) // hop + 1 if len(time_s) >= L else 0
        first_row = self._first_row
        starts = np.arange(count, dtype=np.int64) * hop
        if count:
            windows_g = np.lib.stride_tricks.sliding_window_view(g, L, axis=0)[::hop][:count].transpose(0, 2, 1)
            label_view = np.lib.stride_tricks.sliding_window_view(labels, L)[::hop][:count]
            window_label = window_labels(label_view, self.classes)
        else:
            windows_g, window_label = np.empty((0, L, g.shape[1])), np.empty(0, dtype=np.int8)
        batch = WindowBatch(index=self.windows + np.arange(count, dtype=np.int64),
                            start_row=first_row + starts, start_s=time_s[starts],
                            g=np.ascontiguousarray(windows_g), labels=window_label.astype(np.int8))
        self.windows += count
        consumed = count * hop
        if count:
            self._covered = L - hop   # the last window's samples kept for the next (overlap)
        self._time, self._g, self._labels = time_s[consumed:], g[consumed:], labels[consumed:]
        self._first_row = first_row + consumed
        return batch

    def finish(self, source: str = "recording") -> None:
        """End of the recording: the tail too short for a window is reported; no window at all
        is an error."""
        if self.windows == 0:
            raise TraceError(f"recording has {self.rows} sample(s) in its longest stretch, fewer "
                             f"than one window of {self.window_len} "
                             f"({self.window_len / self.rate_hz * 1000:.0f} ms at {self.rate_hz:g} Hz)",
                             source=source)
        self._drop("at the end of the recording", source)
        self._reset(self._first_row)


def _concat(batches: list[WindowBatch], window_len: int) -> WindowBatch:
    if len(batches) == 1:
        return batches[0]
    if not batches:
        return WindowBatch(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0),
                           np.empty((0, window_len, 3)), np.empty(0, np.int8))
    return WindowBatch(*(np.concatenate([getattr(b, name) for b in batches])
                         for name in ("index", "start_row", "start_s", "g", "labels")))


def iter_windows(trace: ChunkedTrace, window_len: int,
                 hop: int | None = None) -> Iterator[tuple[TraceChunk, WindowBatch]]:
    """(chunk, its windows) for every chunk; warns for every dropped stretch."""
    windower = Windower(window_len, trace.rate_hz, hop, trace.classes)
    for chunk in trace.chunks():
        yield chunk, windower.feed(chunk, str(trace.path))
    windower.finish(str(trace.path))
