"""The scenario set: labels, shapes, seeds, sweep amplitudes."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.suite.config import SWEEP_PEAKS_G
from harness.suite.suite_model import load_suite_model
from harness.suite.scenarios import REGIMES, SCENARIOS, make_scenario_windows, scenario_set


@pytest.fixture(scope="module")
def dataset():
    return load_suite_model("minmax").dataset_config


@pytest.mark.parametrize("name", ["normal", "pre_failure", "impact"])
def test_regime_scenarios_hold_one_class(dataset, name):
    s = make_scenario_windows(name, dataset, 10, 3, 2048.0)
    assert s.counts.shape == (10, 128, 3) and s.counts.dtype == np.int16
    assert (s.labels == REGIMES.index(name)).all()
    assert np.isnan(s.shock_peak_g).all() == (name != "impact")
    np.testing.assert_array_equal(s.g, s.counts / 2048.0)


def test_mixed_interleaves_every_class(dataset):
    s = make_scenario_windows("mixed", dataset, 12, 3, 2048.0)
    assert len(s) == 12 and sorted(np.unique(s.labels)) == [0, 1, 2]
    assert not (np.diff(s.labels) == 0).all()


def test_shock_sweep_amplitudes(dataset):
    s = make_scenario_windows("shock_sweep", dataset, 0, 3, 2048.0, SWEEP_PEAKS_G, 2)
    assert len(s) == 32 and (s.labels == REGIMES.index("impact")).all()
    assert s.shock_peak_g.tolist() == [p for p in SWEEP_PEAKS_G for _ in range(2)]
    peaks = np.abs(s.g).max(axis=(1, 2))
    big = s.shock_peak_g >= 4
    # the window's largest |g| follows the shock (vertical, on top of 1 g gravity) up to full scale
    assert (peaks[big] >= s.shock_peak_g[big] * 0.9).all()
    assert peaks.max() == pytest.approx(32767 / 2048.0)   # 16 g shocks + gravity clip the sensor


def test_scenario_set_is_deterministic(dataset):
    first = scenario_set(dataset, 6, 9, 2048.0, (2.0, 8.0), 1)
    again = scenario_set(dataset, 6, 9, 2048.0, (2.0, 8.0), 1)
    assert [s.name for s in first] == list(SCENARIOS)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.counts, b.counts)
    assert not np.array_equal(first[0].counts, scenario_set(dataset, 6, 10, 2048.0, (2.0,), 1)[0].counts)


def test_unknown_scenario(dataset):
    with pytest.raises(ConfigError, match="unknown scenario"):
        make_scenario_windows("storm", dataset, 4, 0, 2048.0)
