"""Synthetic traces: reproducible, labelled, physically what they claim; CSV/Parquet round trips."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from harness.errors import ConfigError, TraceError
from harness.signals.io import read_trace, write_trace
from harness.signals.schema import AXIS_COLUMNS, COLUMNS, LABELS, axes_g, make_trace, validate_trace
from harness.signals.synth import (
    SCENARIOS, SensorModel, Shock, add_shocks, half_sine, make_scenario, steady_vibration,
    terminal_peak_sawtooth, tone)


def test_scenarios_are_seeded_and_follow_the_schema():
    for name in SCENARIOS:
        a = make_scenario(name, seconds=20, seed=5)
        b = make_scenario(name, seconds=20, seed=5)
        assert list(a.columns) == list(COLUMNS)
        pd.testing.assert_frame_equal(a, b)
        assert a.attrs["rate_hz"] == 1600.0 and len(a) == 32000
        assert not make_scenario(name, seconds=20, seed=6)[list(AXIS_COLUMNS)].equals(a[list(AXIS_COLUMNS)])


def test_steady_vibration_lives_in_the_normal_band():
    g = steady_vibration(60, seed=1)
    vibration = g - np.array([0, 0, 1.0])
    peak = np.abs(vibration).max(axis=0)
    assert 1.0 < peak[0] <= 1.6 and peak[2] <= 0.8  # x up to the 1.5 g band top, z smaller
    assert abs(g[:, 2].mean() - 1.0) < 0.05         # gravity on z


def test_tone_matches_sin():
    t = np.arange(50000) / 1600.0
    np.testing.assert_allclose(tone(50000, 1600.0, 87.5, 0.7), np.sin(2 * np.pi * 87.5 * t + 0.7),
                               atol=1e-9)


def test_pulses_reach_their_peak():
    pulse = half_sine(8.13, 8.0, 1600.0)
    assert pulse.max() == pytest.approx(8.13) and len(pulse) == 13 and pulse[0] == 0
    saw = terminal_peak_sawtooth(8.13, 6.0, 1600.0)
    assert saw[-1] == pytest.approx(8.13) and np.all(np.diff(saw) > 0)


def test_impact_scenario_has_8_13_g_shocks():
    df = make_scenario("impact", seconds=60, seed=2, shape="half_sine")
    impacts = df[df.label == "impact"]
    assert impacts.event_id.nunique() == 3
    assert df.az_g.max() > 8.13 + 0.5  # on top of gravity and vibration
    assert set(df.label.unique()) == {"normal", "impact"}


def test_given_shock_times_and_pre_failure_labels():
    df = make_scenario("mixed", seconds=30, seed=1, shock_times_s=(5.0, 25.0))
    starts = df[df.label == "impact"].groupby("event_id").time_s.min().to_numpy()
    np.testing.assert_allclose(starts, [5.0, 25.0], atol=1 / 1600)
    assert (df.label == "pre_failure").any()


def test_shock_sweep_saturates_at_full_scale():
    df = make_scenario("shock_sweep", seconds=32, seed=0, sensor=SensorModel(full_scale_g=8.0))
    assert df.event_id.max() == 15
    assert df.az_g.max() == pytest.approx(8.0 - 1 / 4096)  # top code of a +-8 g, 16-bit sensor


def test_sensor_model_counts_and_drops():
    sensor = SensorModel(full_scale_g=2.0, drop_rate=0.1)
    assert sensor.counts_per_g == 16384
    assert sensor.to_counts(np.array([0.5, 3.0, -3.0])).tolist() == [8192, 32767, -32768]
    df = make_scenario("normal", seconds=10, seed=1, sensor=sensor)
    assert 0.85 * 16000 < len(df) < 0.95 * 16000
    assert np.diff(df.time_s).max() > 1.5 / 1600  # the drops show up as gaps


def test_add_shocks_rejects_unknown_shape():
    with pytest.raises(ConfigError, match="unknown shock shape"):
        add_shocks(np.zeros((100, 3)), 1600, [Shock(0.01, 1.0, 6.0, "square")])


def test_unknown_scenario_and_option():
    with pytest.raises(ConfigError, match="known: normal"):
        make_scenario("storm")
    with pytest.raises(ConfigError, match="unknown scenario option"):
        make_scenario("normal", seconds=1, wind=3)
    with pytest.raises(ConfigError, match="seconds"):
        make_scenario("normal", seconds=0)


def test_an_hour_takes_seconds():
    start = time.perf_counter()
    df = make_scenario("mixed", seconds=3600, seed=0)
    elapsed = time.perf_counter() - start
    assert len(df) == 5_760_000
    assert elapsed < 15.0, f"an hour of trace took {elapsed:.1f} s"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path, suffix):
    df = make_scenario("mixed", seconds=5, seed=3, shock_times_s=(2.0,))
    path = write_trace(df, tmp_path / f"trace{suffix}")
    back = read_trace(path)
    assert list(back.columns) == list(COLUMNS)
    np.testing.assert_allclose(axes_g(back), axes_g(df), atol=1e-8)
    assert (back.label.astype(str) == df.label.astype(str)).all()
    assert back.label.dtype == "category" and back.event_id.dtype == np.int32
    if suffix == ".parquet":
        assert back.attrs["rate_hz"] == 1600.0 and back.attrs["scenario"] == "mixed"


def test_read_errors(tmp_path):
    with pytest.raises(TraceError, match="unknown trace format"):
        read_trace(tmp_path / "x.txt")
    with pytest.raises(TraceError, match="file not found"):
        read_trace(tmp_path / "x.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(TraceError, match="cannot read"):
        read_trace(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("time_s,ax_g,ay_g,az_g,label,event_id\n")
    with pytest.raises(TraceError, match="empty"):
        read_trace(tmp_path / "header.csv")


def test_validate_names_row_and_column():
    df = make_trace(np.arange(5) / 100, np.zeros((5, 3)))
    bad = df.copy()
    bad.loc[3, "ay_g"] = np.inf
    with pytest.raises(TraceError, match="row 3, column 'ay_g'"):
        validate_trace(bad)
    bad = df.copy()
    bad.loc[2, "time_s"] = bad.loc[1, "time_s"]
    with pytest.raises(TraceError, match="row 2, column 'time_s': duplicated"):
        validate_trace(bad)
    bad = df.copy()
    bad.loc[4, "label"] = "impact"
    assert validate_trace(bad).label.iloc[4] == "impact"
    with pytest.raises(TraceError, match="column 'az_g'"):
        validate_trace(df.drop(columns=["az_g"]))
    assert tuple(LABELS) == ("normal", "pre_failure", "impact")
