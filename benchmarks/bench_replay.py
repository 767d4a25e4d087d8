#!/usr/bin/env python3
"""Host-triage throughput of `hil replay` next to the host INT8 reference alone, same windows, same run.

    .venv/bin/python benchmarks/bench_replay.py [--seconds 600] [--workers 1,2] [--rounds 3] [--model minmax]

Writes a generated recording (tests/support/field_recording.py: background vibration with a bearing
defect, planted healthy stretches) to a temporary Parquet file in chunks, then, in interleaved
rounds (so background load on the host hits all alike), takes the median of:
  int8-alone/s     windows/s of HostInt8Reference.predict_codes on the fold codes of every window
                   (windows already in memory: the reference's cost and nothing else)
  float-alone/s    windows/s of FloatReference.predict on the scaled windows (same windows)
  triage/s         windows/s of the whole host triage (harness.replay.run.triage_recording): chunked
                   Parquet read, validation, windowing, counts, fold codes, float AND INT8
                   references, journal written and fsynced per chunk; for each --workers count
  ratio            triage/s / int8-alone/s
TFLite Micro's interpreter is one window per invoke (the reference kernels dominate: a window
of the fixture models is about 0.4 M MACs), so the triage runs the two references on worker
processes to go faster than one reference alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))  # field_recording
from field_recording import write_field_recording  # noqa: E402
from harness.replay.reader import ChunkedTrace, TraceWarning, iter_windows
from harness.replay.run import triage_recording
from harness.replay.triage import HostTriage


def all_windows(path: Path, window_len: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceWarning)
        return np.concatenate([batch.g for _, batch in iter_windows(ChunkedTrace(path), window_len)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0, help="recording length (default: %(default)s)")
    parser.add_argument("--workers", default="1,2", help="worker counts for the triage (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default: %(default)s)")
    parser.add_argument("--model", default="minmax", help="fixtures/models name (default: %(default)s)")
    parser.add_argument("--chunk-rows", type=int, default=65536)
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]

    triage = HostTriage(args.model)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "field.parquet"
        started = time.perf_counter()
        write_field_recording(path, args.seconds)
        print(f"recording: {args.seconds:g} s at 1600 Hz, {int(args.seconds * 1600):,} rows, "
              f"{path.stat().st_size / 1e6:.1f} MB Parquet, written in {time.perf_counter() - started:.1f} s")
        windows_g = all_windows(path, triage.window_len)
        n = len(windows_g)
        counts = triage.counts(windows_g)
        codes = triage.input_codes(counts)
        scaled = triage.bundle.scaler.transform(counts / triage.counts_per_g).astype(np.float32)
        print(f"windows: {n:,}; host cores: {os.cpu_count()}; model: {triage.name}")
        rates: dict[str, list[float]] = {"int8-alone": [], "float-alone": [],
                                         **{f"triage w={w}": [] for w in workers}}
        for round_number in range(args.rounds):
            started = time.perf_counter()
            int8 = triage.int8_reference.predict_codes(codes)
            rates["int8-alone"].append(n / (time.perf_counter() - started))
            started = time.perf_counter()
            triage.float_reference.predict(scaled)
            rates["float-alone"].append(n / (time.perf_counter() - started))
            for w in workers:
                out = Path(folder) / f"out-{round_number}-{w}"
                started = time.perf_counter()
                outcome = triage_recording(ChunkedTrace(path, chunk_rows=args.chunk_rows), triage, out, workers=w)
                rates[f"triage w={w}"].append(n / (time.perf_counter() - started))
                if not np.array_equal(outcome.int8_class, int8.argmax):
                    print("error: triage INT8 classes differ from the reference alone", file=sys.stderr)
                    return 1
        alone = statistics.median(rates["int8-alone"])
        print(f"{'':16} {'windows/s':>10} {'ratio to int8-alone':>20}")
        for name, values in rates.items():
            rate = statistics.median(values)
            print(f"{name:16} {rate:10.0f} {rate / alone:20.2f}")
        print(f"disagreeing windows: {len(outcome.disagreements)} "
              f"(float vs host INT8; {outcome.disagreements and outcome.disagreements[0]['float_class']}"
              f"->{outcome.disagreements and outcome.disagreements[0]['int8_class']})")
        day = 24 * 3600 * 1600 / triage.window_len
        best = max(statistics.median(rates[f"triage w={w}"]) for w in workers)
        print(f"a 24 h recording ({day:,.0f} windows) at the best triage rate: {day / best / 60:.0f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
