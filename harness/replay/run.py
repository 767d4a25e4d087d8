"""Replay a field recording: host triage (streamed, journaled, resumable), then the windows to
confirm on the device, then the device confirmation itself.

    trace = ChunkedTrace("field.parquet", units="g", rate_hz=1600)
    triage = HostTriage("minmax")
    outcome = triage_recording(trace, triage, out_dir)        # journal in out_dir, resumable
    chosen = choose_confirmation(outcome, sample_agreeing=16)
    windows = collect_windows(trace, triage.window_len, chosen)  # second streaming pass
    confirmation = confirm_on_device(device, triage, windows)   # device == host INT8, codes == mirror
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, TextIO

import numpy as np

from harness.errors import ConfigError, PipelineMismatchError
from harness.replay.journal import Journal, JournalState, file_sha256
from harness.replay.reader import ChunkedTrace, TraceWarning, iter_windows
from harness.replay.triage import HostTriage


class Progress:
    """One status line on stderr, redrawn at most every ``interval_s``."""

    def __init__(self, total_rows: int | None, stream: TextIO | None = sys.stderr,
                 interval_s: float = 1.0):
        self.total_rows = total_rows
        self.stream = stream
        self.interval_s = interval_s
        self.started = time.monotonic()
        self._last = 0.0
        self.triaged = 0

    def update(self, rows: int, windows: int, disagree: int, reused: bool = False, final=False):
        now = time.monotonic()
        if self.stream is None or (not final and now - self._last < self.interval_s):
            return
        self._last = now
        elapsed = now - self.started
        rate = self.triaged / elapsed if elapsed > 0 else 0.0
        where = f"rows {rows:,}"
        eta = ""
        if self.total_rows:
            where += f"/{self.total_rows:,} ({100.0 * rows / self.total_rows:.1f} %)"
            if rate > 0 and rows and not final:
                remaining = elapsed * (self.total_rows - rows) / max(rows, 1)
                eta = f"  eta {remaining:.0f} s"
        self.stream.write(f"\rtriage: {where}  windows {windows:,}  disagree {disagree:,}  "
                          f"{rate:.0f} windows/s{' (journal)' if reused else ''}{eta}   ")
        if final:
            self.stream.write("\n")
        self.stream.flush()


@dataclass
class TriageOutcome:
    """The whole triage, rebuilt from the journal: classes per window and the disagreements."""

    journal_path: str
    fingerprint: str
    header: dict
    float_class: np.ndarray
    int8_class: np.ndarray
    start_s: np.ndarray          # per window
    labels: np.ndarray           # per window (recording's own label, most severe)
    disagreements: list          # dicts, in window order
    rows: int
    dropped: list
    reused: bool = False         # the journal was complete before this run
    resumed_chunks: int = 0      # chunks taken from an interrupted run's journal
    triage_s: float = 0.0
    triaged_windows: int = 0     # windows run through the references in this run


def _digits(values) -> str:
    return "".join(map(str, np.asarray(values, dtype=np.int64).tolist()))


def _undigits(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8).astype(np.int64) - ord("0")


def journal_header(trace: ChunkedTrace, triage: HostTriage) -> dict:
    return {"trace": {"name": trace.path.name, "sha256": file_sha256(trace.path),
                      "bytes": trace.path.stat().st_size},
            "model": triage.fingerprint(), "classes": triage.classes,
            "params": {**trace.params(), "window_len": triage.window_len, "hop": triage.hop}}


def _chunk_record(number: int, chunk, batch, result, classes: list[str]) -> dict:
    disagree = []
    for k in np.flatnonzero(result.disagree):
        disagree.append({"index": int(batch.index[k]), "start_row": int(batch.start_row[k]),
                         "start_s": float(batch.start_s[k]),
                         "float_class": classes[result.float_class[k]],
                         "int8_class": classes[result.int8_class[k]],
                         "label": classes[batch.labels[k]] if chunk.labelled else None,
                         "float_scores": [round(float(v), 6) for v in result.float_scores[k]],
                         "int8_codes": [int(v) for v in result.int8_codes[k]]})
    first = int(batch.index[0]) if len(batch) else None
    return {"kind": "chunk", "chunk": number, "rows": [chunk.first_row, chunk.first_row + len(chunk)],
            "windows": [first, len(batch)], "start_s": [round(float(s), 6) for s in batch.start_s],
            "labels": _digits(batch.labels), "float": _digits(result.float_class),
            "int8": _digits(result.int8_class), "disagree": disagree}


def _outcome(journal: Journal, state: JournalState, **extra) -> TriageOutcome:
    chunks = state.chunks
    def join(key, convert):
        parts = [convert(c[key]) for c in chunks]
        return np.concatenate(parts) if parts else np.empty(0)
    return TriageOutcome(
        journal_path=str(journal.path), fingerprint=journal.fingerprint, header=state.header,
        float_class=join("float", _undigits).astype(np.int64),
        int8_class=join("int8", _undigits).astype(np.int64),
        start_s=join("start_s", lambda v: np.asarray(v, dtype=np.float64)),
        labels=join("labels", _undigits).astype(np.int64),
        disagreements=[d for c in chunks for d in c["disagree"]],
        rows=int(state.done["rows"]), dropped=list(state.done["dropped"]), **extra)


_WORKER_TRIAGE: HostTriage | None = None


def _worker_init(model_json: str, counts_per_g: float) -> None:
    import signal
    global _WORKER_TRIAGE
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops the pool
    _WORKER_TRIAGE = HostTriage(model_json, counts_per_g)


def _worker_run(counts: np.ndarray):
    return _WORKER_TRIAGE.run_counts(counts)


class _Runner:
    """Runs batches in order: in this process, or on ``workers`` processes (each with its own
    references; TFLite Micro's interpreter runs one window per invoke and holds the GIL, so
    processes are what runs windows in parallel). Results come back in submission order."""

    def __init__(self, triage: HostTriage, workers: int):
        self.triage = triage
        self.workers = workers
        self.pool = None
        if workers > 1:
            from concurrent.futures import ProcessPoolExecutor
            self.pool = ProcessPoolExecutor(workers, initializer=_worker_init,
                                            initargs=(str(triage.json_path), triage.counts_per_g))

    def map(self, items):
        """items: iterator of (payload, batch); yields (payload, batch, result) in order."""
        if self.pool is None:
            for payload, batch in items:
                yield payload, batch, self.triage.run(batch.g)
            return
        from collections import deque
        pending: deque = deque()
        for payload, batch in items:
            counts = self.triage.counts(batch.g)
            pending.append((payload, batch, self.pool.submit(_worker_run, counts)))
            while len(pending) > 2 * self.workers:
                payload_done, batch_done, future = pending.popleft()
                yield payload_done, batch_done, future.result()
        while pending:
            payload_done, batch_done, future = pending.popleft()
            yield payload_done, batch_done, future.result()

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def triage_recording(trace: ChunkedTrace, triage: HostTriage, out_dir, resume: bool = False,
                     progress: Progress | None = None,
                     after_chunk: Callable[[int], None] | None = None,
                     workers: int = 1) -> TriageOutcome:
    """Triage every window of the recording, journaling each chunk as it finishes.

    A finished journal with the same fingerprint is reused (no reference runs). An unfinished one
    is continued with ``resume`` (its chunks are re-read, not re-run), else started over.
    ``after_chunk(number)`` runs after each chunk is journaled (tests interrupt there).
    ``workers`` > 1 runs the references on that many processes; the journal is the same.
    """
    if abs(trace.rate_hz - triage.rate_hz) > 1e-9 * triage.rate_hz:
        raise ConfigError(f"trace read at {trace.rate_hz:g} Hz, the model runs at {triage.rate_hz:g} Hz")
    journal = Journal(out_dir, journal_header(trace, triage))
    state = journal.read()
    if state is not None and state.done is not None:
        if progress:
            progress.update(state.done["rows"], len(_outcome(journal, state).float_class),
                            len([d for c in state.chunks for d in c["disagree"]]), reused=True, final=True)
        return _outcome(journal, state, reused=True)
    if state is not None and not resume:
        state = None  # an interrupted run's journal: start over (resume would continue it)
    done_chunks = len(state.chunks) if state else 0
    state = state or JournalState(journal.header)
    journal.start(state if done_chunks else None)
    started = time.perf_counter()
    triaged = 0
    disagree_total = sum(len(c["disagree"]) for c in state.chunks)
    windows_total = sum(c["windows"][1] for c in state.chunks)
    dropped: list = []
    runner = _Runner(triage, workers)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TraceWarning)
            def todo():
                # chunks journaled before an interruption are re-read (the windower's state is
                # rebuilt from them) but not re-run
                for number, (chunk, batch) in enumerate(iter_windows(trace, triage.window_len, triage.hop)):
                    if number >= done_chunks:
                        yield (number, chunk), batch

            for (number, chunk), batch, result in runner.map(todo()):
                record = _chunk_record(number, chunk, batch, result, triage.classes)
                journal.append(record)
                state.chunks.append(record)
                triaged += len(batch)
                windows_total += len(batch)
                disagree_total += len(record["disagree"])
                if progress:
                    progress.triaged = triaged
                    progress.update(chunk.first_row + len(chunk), windows_total, disagree_total)
                if after_chunk:
                    after_chunk(number)
        # re-warned outside the recording block: warning inside it would append to ``caught``
        # while it is being read, forever
        for warning in caught:
            if issubclass(warning.category, TraceWarning):
                dropped.append(str(warning.message))
                warnings.warn(warning.message, TraceWarning, stacklevel=2)
        rows = sum(c["rows"][1] - c["rows"][0] for c in state.chunks)
        state.done = {"kind": "done", "windows": windows_total, "rows": rows, "dropped": dropped}
        journal.append(state.done)
    finally:
        runner.close()
        journal.close()
    if progress:
        progress.triaged = triaged
        progress.update(state.done["rows"], windows_total, disagree_total, final=True)
    return _outcome(journal, state, resumed_chunks=done_chunks,
                    triage_s=time.perf_counter() - started, triaged_windows=triaged)


def choose_confirmation(outcome: TriageOutcome, sample_agreeing: int = 16,
                        max_disagreeing: int | None = 512, seed: int = 0) -> dict:
    """Window indices to replay on the device: the disagreeing ones (the first ``max_disagreeing``)
    and ``sample_agreeing`` agreeing ones drawn with ``seed`` (the same every run)."""
    disagreeing = [d["index"] for d in outcome.disagreements][:max_disagreeing]
    agreeing = np.flatnonzero(outcome.float_class == outcome.int8_class)
    rng = np.random.default_rng(seed)
    sample = sorted(rng.choice(agreeing, size=min(sample_agreeing, len(agreeing)), replace=False).tolist())
    return {"disagreeing": disagreeing, "agreeing": [int(i) for i in sample]}


def collect_windows(trace: ChunkedTrace, window_len: int, indices,
                    hop: int | None = None) -> dict[int, np.ndarray]:
    """A second streaming pass: the g windows (window_len, 3) of the given window indices."""
    wanted = set(int(i) for i in indices)
    found: dict[int, np.ndarray] = {}
    if not wanted:
        return found
    last = max(wanted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceWarning)  # reported by the triage pass already
        for _chunk, batch in iter_windows(trace, window_len, hop):
            for k, index in enumerate(batch.index):
                if int(index) in wanted:
                    found[int(index)] = batch.g[k].copy()
            if len(batch) and batch.index[-1] >= last:
                break
    return found


@dataclass
class Confirmation:
    """Device vs host INT8 on the chosen windows."""

    indices: list
    output_equal: list            # per window: device output codes == host INT8 output codes
    mirror_equal: bool            # device input codes == host mirror in every window
    mirror_mismatches: list = field(default_factory=list)
    device_class: list = field(default_factory=list)
    host_class: list = field(default_factory=list)
    cost: list = field(default_factory=list)
    cost_unit: str = ""
    device_faults: list = field(default_factory=list)   # {index, kind, error}: failed twice, reset between
    resets: int = 0                                     # device resets during the confirmation

    @property
    def all_equal(self) -> bool:
        return self.mirror_equal and all(self.output_equal)

    def to_dict(self) -> dict:
        return {"windows": len(self.indices), "all_equal": self.all_equal,
                "outputs_equal": int(sum(self.output_equal)), "mirror_equal": self.mirror_equal,
                "mirror_mismatches": self.mirror_mismatches, "device_faults": self.device_faults,
                "resets": self.resets,
                "per_window": [{"index": i, "device_class": d, "host_int8_class": h, "outputs_equal": e}
                               for i, d, h, e in zip(self.indices, self.device_class,
                                                     self.host_class, self.output_equal)]}


def confirm_on_device(device, triage: HostTriage, windows: dict[int, np.ndarray],
                      timeout_s: float = 10.0) -> Confirmation:
    """Deploy the INT8 model and its fold on the device (a RunningDevice, HostTriage.pipeline), run
    the windows as raw counts, compare. A device that stops answering is reset and the window retried once
    (harness.device.recovery); a window that fails twice is listed in ``device_faults`` and left
    out of the comparison (``indices`` holds the windows compared)."""
    from harness.device.recovery import DeviceRecovery, infer_windows_recovering
    indices = sorted(windows)
    if not indices:
        return Confirmation([], [], True)
    counts = triage.counts(np.stack([windows[i] for i in indices]))

    recovery = DeviceRecovery(device, triage.pipeline(timeout_s))
    mismatches: list = []
    try:
        run = infer_windows_recovering(recovery, counts, timeout_s=timeout_s)   # deploys the pipeline first
        mirror_equal = True
    except PipelineMismatchError as e:
        run, mirror_equal = e.recovered, False
        mismatches = [list(m) for m in e.mismatches]
    measured = ~run.faulted
    faults = [{"index": indices[e.window], "kind": e.kind, "error": e.retry_error or e.error}
              for e in run.device_faults]
    counts, result = counts[measured], run.result
    indices = [i for i, keep in zip(indices, measured) if keep]
    host = triage.int8_reference.predict_codes(triage.input_codes(counts))
    device_codes = np.asarray(result.outputs)[measured].reshape(len(indices), -1)
    equal = [bool(np.array_equal(d, h)) for d, h in zip(device_codes, host.codes)]
    return Confirmation(indices, equal, mirror_equal, mismatches,
                        [triage.classes[int(c)] for c in device_codes.argmax(axis=1)],
                        [triage.classes[int(c)] for c in host.argmax],
                        [int(c) for c in np.asarray(result.cost)[measured]], result.cost_unit, faults, recovery.resets)
