"""Chunked reader and windower: same windows as the whole-file path, state across chunk
boundaries, bad input named by row, nothing dropped silently, memory bounded by the chunk."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

from harness.errors import TraceError
from harness.replay.reader import ChunkedTrace, TraceWarning, Windower, iter_windows
from harness.signals.field import cut_windows, import_recording

RATE = 1600.0


def _frame(n, rate=RATE, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    g = 0.5 * rng.standard_normal((n, 3))
    g[:, 2] += 1.0
    return pd.DataFrame({"t": t, "X": g[:, 0] * scale, "Y": g[:, 1] * scale, "Z": g[:, 2] * scale})


MAP = {"time_s": "t", "ax_g": "X", "ay_g": "Y", "az_g": "Z"}


def _write(frame, path):
    if path.suffix == ".csv":
        frame.to_csv(path, index=False, float_format="%.9g")
    else:
        frame.to_parquet(path, index=False, row_group_size=1000)
    return path


def _all_windows(trace):
    batches = [b for _, b in iter_windows(trace, 128)]
    return (np.concatenate([b.g for b in batches]), np.concatenate([b.start_s for b in batches]),
            np.concatenate([b.start_row for b in batches]))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("chunk_rows", [100, 1000, 4096])
def test_chunked_windows_equal_the_whole_file_windows(tmp_path, suffix, chunk_rows):
    path = _write(_frame(3000), tmp_path / f"rec{suffix}")
    whole = cut_windows(import_recording(path, MAP), window_len=128)
    with pytest.warns(TraceWarning, match=r"rows 2944-2999: 56 sample\(s\) at the end"):
        g, start_s, start_row = _all_windows(ChunkedTrace(path, MAP, chunk_rows=chunk_rows))
    np.testing.assert_array_equal(g, whole.samples)
    np.testing.assert_array_equal(start_s, whole.start_s)
    np.testing.assert_array_equal(start_row, np.arange(len(g)) * 128)


def test_total_rows_from_parquet_metadata(tmp_path):
    path = _write(_frame(3000), tmp_path / "rec.parquet")
    assert ChunkedTrace(path, MAP).total_rows() == 3000
    assert ChunkedTrace(_write(_frame(300), tmp_path / "rec.csv"), MAP).total_rows() is None


def _error(path, **kw):
    with pytest.raises(TraceError) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TraceWarning)
            for _ in iter_windows(ChunkedTrace(path, MAP, **kw), 128):
                pass
    return info.value


@pytest.mark.parametrize("row", [150, 1000])  # inside a chunk; first row of the second chunk
def test_duplicated_timestamp_names_the_file_row(tmp_path, row):
    frame = _frame(3000)
    frame.loc[row, "t"] = frame.loc[row - 1, "t"]
    e = _error(_write(frame, tmp_path / "rec.csv"), chunk_rows=1000)
    assert e.row == row and e.column == "t"
    assert "duplicated timestamp" in str(e) and f"file line {row + 2}" in str(e)


@pytest.mark.parametrize("row", [700, 2000])
def test_time_going_backwards_names_the_row(tmp_path, row):
    frame = _frame(3000)
    frame.loc[row, "t"] = frame.loc[row - 1, "t"] - 0.5
    e = _error(_write(frame, tmp_path / "rec.parquet"), chunk_rows=1000)
    assert e.row == row and "backwards" in str(e)


@pytest.mark.parametrize("row", [640, 1000])
def test_gap_is_an_error_naming_the_row(tmp_path, row):
    frame = _frame(3000)
    frame.loc[row:, "t"] += 0.5      # 800 samples missing before `row`
    e = _error(_write(frame, tmp_path / "rec.parquet"), chunk_rows=1000)
    assert e.row == row and "gap of 0.50" in str(e) and "about 800 missing samples" in str(e)


def test_allowed_gap_warns_restarts_windows_and_reports_dropped_rows(tmp_path):
    frame = _frame(3000)
    frame.loc[1000:, "t"] += 0.5
    trace = ChunkedTrace(_write(frame, tmp_path / "rec.parquet"), MAP, chunk_rows=700, allow_gaps=True)
    windower = Windower(128, RATE)
    with pytest.warns(TraceWarning) as caught:
        batches = [windower.feed(chunk, "rec") for chunk in trace.chunks()]
        windower.finish("rec")
    messages = [str(w.message) for w in caught]
    assert any("row 1000" in m and "gap" in m for m in messages)
    # rows 896-999 (104) fill no window before the gap; rows 2920-2999 (80) at the end
    assert windower.dropped == [
        {"first_row": 896, "samples": 104, "start_s": pytest.approx(896 / RATE), "why": "before a gap"},
        {"first_row": 2920, "samples": 80, "start_s": pytest.approx(2920 / RATE + 0.5),
         "why": "at the end of the recording"}]
    rows = np.concatenate([b.start_row for b in batches])
    assert rows[6] == 768 and rows[7] == 1000            # windows restart at the gap
    assert windower.windows * 128 + 104 + 80 == 3000      # every row accounted for


def test_nan_run_names_first_row_and_count(tmp_path):
    frame = _frame(3000)
    frame.loc[1500:1519, "Y"] = np.nan
    e = _error(_write(frame, tmp_path / "rec.csv"), chunk_rows=1000)
    assert e.row == 1500 and e.column == "Y" and "20 bad value(s)" in str(e)


def test_m_s2_read_as_g_names_the_chunk(tmp_path):
    frame = _frame(3000)
    for axis in "XYZ":
        frame.loc[1000:, axis] *= 9.80665
    e = _error(_write(frame, tmp_path / "rec.parquet"), chunk_rows=1000)
    assert e.row == 1000 and "gravity in m/s^2" in str(e) and "declare units 'm/s2'" in str(e)


def test_m_s2_with_gravity_removed_names_the_chunk(tmp_path):
    """Motion in m/s^2 without gravity (median magnitude 2-15) read as g: caught by the same rule."""
    frame = _frame(3000)
    frame["Z"] -= 1.0                      # gravity removed
    for axis in "XYZ":
        frame.loc[2000:, axis] *= 9.80665
    e = _error(_write(frame, tmp_path / "rec.parquet"), chunk_rows=1000)
    assert e.row == 2000 and "gravity removed" in str(e)


@pytest.mark.parametrize("chunk_rows", [100, 1000, 4096])
def test_overlapping_windows_with_a_hop_equal_the_whole_file_windows(tmp_path, chunk_rows):
    path = _write(_frame(3000), tmp_path / "rec.parquet")
    whole = cut_windows(import_recording(path, MAP), window_len=128, hop=32)
    with pytest.warns(TraceWarning, match=r"rows 2976-2999: 24 sample\(s\) at the end"):
        batches = [b for _, b in iter_windows(ChunkedTrace(path, MAP, chunk_rows=chunk_rows), 128, hop=32)]
    g = np.concatenate([b.g for b in batches])
    np.testing.assert_array_equal(g, whole.samples)
    np.testing.assert_array_equal(np.concatenate([b.start_row for b in batches]), np.arange(len(g)) * 32)


def test_bundle_classes_label_the_windows_and_unknown_labels_name_row_and_column(tmp_path):
    frame = _frame(1000, rate=50.0)
    frame["activity"] = ["idle"] * 400 + ["walking"] * 600
    path = _write(frame, tmp_path / "rec.csv")
    classes = ["idle", "walking", "running"]
    trace = ChunkedTrace(path, {**MAP, "label": "activity"}, rate_hz=50.0, chunk_rows=300, classes=classes)
    with pytest.warns(TraceWarning):
        batches = [b for _, b in iter_windows(trace, 32, hop=16)]
    labels = np.concatenate([b.labels for b in batches])
    starts = np.concatenate([b.start_row for b in batches])
    assert set(labels[starts + 32 <= 400]) == {0} and set(labels[starts >= 400]) == {1}
    frame.loc[700, "activity"] = "Standing"
    bad = _write(frame, tmp_path / "bad.csv")
    with pytest.raises(TraceError) as info:
        for _ in iter_windows(ChunkedTrace(bad, {**MAP, "label": "activity"}, rate_hz=50.0, chunk_rows=300,
                                           classes=classes), 32, hop=16):
            pass
    assert info.value.row == 700 and info.value.column == "activity"
    assert "unknown label 'Standing'" in str(info.value) and "idle, walking, running" in str(info.value)


def test_units_are_converted_per_chunk(tmp_path):
    frame = _frame(1280)
    scaled = frame.copy()
    scaled[["X", "Y", "Z"]] *= 9.80665
    g_ref, _, _ = _all_windows(ChunkedTrace(_write(frame, tmp_path / "a.parquet"), MAP))
    g, _, _ = _all_windows(ChunkedTrace(_write(scaled, tmp_path / "b.parquet"), MAP, units="m/s2",
                                        chunk_rows=333))
    np.testing.assert_allclose(g, g_ref, atol=1e-12)


def test_recording_shorter_than_one_window(tmp_path):
    e = _error(_write(_frame(100), tmp_path / "rec.csv"))
    assert "100 sample(s)" in str(e) and "fewer than one window of 128" in str(e)


def test_wrong_rate_is_an_error(tmp_path):
    e = _error(_write(_frame(3000, rate=800.0), tmp_path / "rec.parquet"))
    assert "800 Hz apart" in str(e) and "resample" in str(e)


def test_missing_time_column_uses_the_rate_with_file_rows(tmp_path):
    frame = _frame(1000).drop(columns="t")
    path = _write(frame, tmp_path / "rec.parquet")
    trace = ChunkedTrace(path, {"ax_g": "X", "ay_g": "Y", "az_g": "Z"}, chunk_rows=300)
    with pytest.warns(TraceWarning):
        _, start_s, _ = _all_windows(trace)
    np.testing.assert_allclose(start_s, np.arange(7) * 128 / RATE)


def test_peak_memory_is_bounded_by_the_chunk_not_the_file(tmp_path):
    """1 M rows (32 MB as float64 time + 3 axes) read in 16384-row chunks: the Python-side
    (tracemalloc) and Arrow-side peaks stay a few MB, a quarter of the file's in-memory size
    (measured: 5.0 MB and 5.7 MB; Arrow's pre-buffering would keep the whole compressed file)."""
    from field_recording import write_field_recording
    path = tmp_path / "long.parquet"
    write_field_recording(path, seconds=625.0, events=[])     # 1,000,000 rows
    script = textwrap.dedent(f"""
        import tracemalloc, warnings, pyarrow as pa
        from harness.replay.reader import ChunkedTrace, iter_windows
        tracemalloc.start()
        windows = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _, batch in iter_windows(ChunkedTrace({str(path)!r}, chunk_rows=16384), 128):
                windows += len(batch)
        print(windows, tracemalloc.get_traced_memory()[1], pa.default_memory_pool().max_memory())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    windows, python_peak, arrow_peak = (int(v) for v in out.stdout.split())
    assert windows == 1_000_000 // 128
    whole_file_bytes = 1_000_000 * (8 + 3 * 8)       # time + 3 axes as float64, labels aside
    chunk_bytes = 16384 * (8 + 3 * 8)
    assert python_peak < 12 * chunk_bytes < whole_file_bytes / 4
    assert arrow_peak < whole_file_bytes / 4
