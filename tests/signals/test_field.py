"""Field recording import: mapping, units, validation naming row and column, resampling, windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.errors import TraceError
from harness.signals.field import cut_windows, import_recording, resample
from harness.signals.schema import axes_g
from harness.signals.synth import make_scenario

G = 9.80665


def _recording(n=400, rate_hz=800.0):
    t = np.arange(n) / rate_hz
    return pd.DataFrame({"ts_ms": t * 1e3, "X": 0.3 * np.sin(2 * np.pi * 20 * t),
                         "Y": 0.1 * np.cos(2 * np.pi * 20 * t), "Z": np.ones(n)})


MAPPING = {"time_s": "ts_ms", "ax_g": "X", "ay_g": "Y", "az_g": "Z"}


@pytest.mark.parametrize("units, factor, extra", [("g", 1.0, {}), ("mg", 1000.0, {}),
                                                  ("m/s2", G, {}),
                                                  ("counts", 4096.0, {"counts_per_g": 4096.0})])
def test_units_are_converted_to_g(units, factor, extra):
    raw = _recording()
    scaled = raw.copy()
    scaled[["X", "Y", "Z"]] *= factor
    trace = import_recording(scaled, MAPPING, units=units, time_unit="ms", **extra)
    np.testing.assert_allclose(axes_g(trace), raw[["X", "Y", "Z"]].to_numpy(), atol=1e-12)
    assert trace.attrs["rate_hz"] == pytest.approx(800.0)


def test_m_s2_read_as_g_is_caught():
    raw = _recording()
    raw[["X", "Y", "Z"]] *= G
    with pytest.raises(TraceError, match="9.8 is gravity in m/s\\^2.*declare units 'm/s2'"):
        import_recording(raw, MAPPING, time_unit="ms")
    raw[["X", "Y", "Z"]] *= 1000 / G
    with pytest.raises(TraceError, match="looks like mg read as g"):
        import_recording(raw, MAPPING, time_unit="ms")


def test_m_s2_with_gravity_removed_read_as_g_is_caught():
    """Motion in m/s^2 with gravity removed (median magnitude 2-15) is not in the old 5-20 g
    window: the one rule (harness.bundle.recordings.check_units_g) catches it."""
    n = 400
    t = np.arange(n) / 800.0
    raw = pd.DataFrame({"ts_ms": t * 1e3, "X": 3.0 * np.sin(2 * np.pi * 2 * t) + 2.5,
                        "Y": 1.5 * np.cos(2 * np.pi * 2 * t), "Z": 0.8 * np.ones(n)})
    magnitude = float(np.median(np.linalg.norm(raw[["X", "Y", "Z"]].to_numpy(), axis=1)))
    assert 2.5 < magnitude < 5.0      # what the old rule let through
    with pytest.raises(TraceError, match="gravity removed; declare units 'm/s2'"):
        import_recording(raw, MAPPING, time_unit="ms")
    trace = import_recording(raw, MAPPING, units="m/s2", time_unit="ms")
    assert float(np.median(np.linalg.norm(axes_g(trace), axis=1))) == pytest.approx(magnitude / G)


def test_labels_outside_the_model_classes_name_row_and_column(tmp_path):
    raw = _recording()
    raw["state"] = ["idle"] * 200 + ["walking"] * 150 + ["Standing"] * 50
    path = tmp_path / "rec.csv"
    raw.to_csv(path, index=False)
    mapping = {**MAPPING, "label": "state"}
    with pytest.raises(TraceError, match=r"rec.csv, row 350, column 'state': unknown label 'Standing'.*"
                                         r"model's classes are idle, walking.*file line 352") as info:
        import_recording(path, mapping, time_unit="ms", classes=["idle", "walking"])
    assert info.value.row == 350 and info.value.column == "state"
    trace = import_recording(path, mapping, time_unit="ms", classes=["idle", "walking", "Standing"])
    assert list(trace["label"].cat.categories) == ["idle", "walking", "Standing"] and trace.attrs["labelled"]
    windows = cut_windows(trace, window_len=100)
    assert list(windows.labels) == ["idle", "idle", "walking", "walking"]   # most frequent in each window


def test_csv_errors_name_row_column_and_file_line(tmp_path):
    raw = _recording()
    raw.loc[17, "Y"] = np.nan
    path = tmp_path / "rec.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(TraceError, match=r"rec.csv, row 17, column 'Y': .*file line 19") as info:
        import_recording(path, MAPPING, time_unit="ms")
    assert info.value.row == 17 and info.value.column == "Y"


@pytest.mark.parametrize("edit, message, row", [
    (lambda r: r.__setitem__("ts_ms", r.ts_ms.where(r.index != 50, r.ts_ms[48])), "backwards", 50),
    (lambda r: r.__setitem__("ts_ms", r.ts_ms.where(r.index != 50, r.ts_ms[49])), "duplicated", 50),
    (lambda r: r.__setitem__("Z", r.Z.astype(object).where(r.index != 9, "n/a")), "not a finite", 9),
    (lambda r: r.__setitem__("X", r.X.where(r.index != 3, np.inf)), "not a finite", 3),
])
def test_validation_errors(edit, message, row):
    raw = _recording()
    edit(raw)
    with pytest.raises(TraceError, match=message) as info:
        import_recording(raw, MAPPING, time_unit="ms")
    assert info.value.row == row


def test_gaps_are_errors_unless_allowed():
    raw = _recording().drop(index=range(100, 110)).reset_index(drop=True)
    with pytest.raises(TraceError, match="gap of .* 10 missing samples") as info:
        import_recording(raw, MAPPING, time_unit="ms")
    assert info.value.row == 100 and info.value.column == "ts_ms"
    trace = import_recording(raw, MAPPING, time_unit="ms", allow_gaps=True)
    assert len(resample(trace, 800.0)) == 400


def test_missing_columns_empty_and_bad_units():
    with pytest.raises(TraceError, match="missing column 'Q'"):
        import_recording(_recording(), {**MAPPING, "ay_g": "Q"}, time_unit="ms")
    with pytest.raises(TraceError, match="empty"):
        import_recording(_recording().iloc[:0], MAPPING, time_unit="ms")
    with pytest.raises(TraceError, match="counts_per_g"):
        import_recording(_recording(), MAPPING, units="counts", time_unit="ms")
    with pytest.raises(TraceError, match="unknown units"):
        import_recording(_recording(), MAPPING, units="furlongs")
    with pytest.raises(TraceError, match="no rate_hz"):
        import_recording(_recording().drop(columns=["ts_ms"]), MAPPING)
    trace = import_recording(_recording().drop(columns=["ts_ms"]), MAPPING, rate_hz=800.0)
    assert trace.time_s.iloc[1] == pytest.approx(1 / 800)


def test_resample_up_and_down_keeps_the_tone():
    trace = import_recording(_recording(n=4000), MAPPING, time_unit="ms")  # 20 Hz tone at 800 Hz
    up = resample(trace, 1600.0)
    assert up.attrs["rate_hz"] == 1600.0
    t = up.time_s.to_numpy()
    np.testing.assert_allclose(up.ax_g, 0.3 * np.sin(2 * np.pi * 20 * t), atol=0.003)
    down = resample(trace, 200.0)
    t = down.time_s.to_numpy()[20:-20]
    np.testing.assert_allclose(down.ax_g.to_numpy()[20:-20], 0.3 * np.sin(2 * np.pi * 20 * t), atol=0.01)


def test_cut_windows_shapes_labels_and_start_times():
    trace = make_scenario("impact", seconds=4, seed=1, shock_times_s=(1.0,))
    windows = cut_windows(trace, window_len=128, hop=64)
    assert windows.samples.shape == ((6400 - 128) // 64 + 1, 128, 3)
    assert windows.samples.dtype == np.float64
    np.testing.assert_array_equal(windows.samples[3], axes_g(trace)[192:320])
    np.testing.assert_allclose(windows.start_s[:3], [0, 0.04, 0.08])
    impact_windows = windows.start_s[windows.labels == "impact"]
    assert len(impact_windows) >= 2 and np.all((impact_windows > 0.9) & (impact_windows < 1.02))


def test_cut_windows_refuses_short_or_gappy_traces():
    trace = make_scenario("normal", seconds=1, seed=1)
    with pytest.raises(TraceError, match="fewer than one window"):
        cut_windows(trace.iloc[:100])
    with pytest.raises(TraceError, match="resample"):
        cut_windows(trace.drop(index=[500]).reset_index(drop=True))
