"""harness.signals.counts.to_counts: the one g -> counts conversion (sensor model, recordings,
suite scenarios, replay)."""

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.signals.counts import to_counts
from harness.signals.synth import SensorModel


def test_rounds_to_nearest_even_and_saturates_at_int16():
    g = np.array([0.5 / 2048, 1.5 / 2048, -0.5 / 2048, 1.0, 15.9995, 16.0, 40.0, -16.0, -40.0])
    assert to_counts(g, 2048.0).tolist() == [0, 2, 0, 2048, 32767, 32767, 32767, -32768, -32768]
    assert to_counts(g, 2048.0).dtype == np.int16


def test_saturates_at_the_sensor_resolution():
    # a 12-bit +-16 g sensor: 128 LSB/g, codes -2048..2047
    assert to_counts(np.array([15.99, 16.0, -16.0, -20.0]), 128.0, resolution_bits=12).tolist() == \
        [2047, 2047, -2048, -2048]


def test_float32_windows_are_scaled_in_float64():
    # 11.2194996 g (float32) * 1000 LSB/g is 11219.4996 exactly: float32 arithmetic rounds it to
    # 11219.5 first and then to 11220; the conversion gives the correctly rounded 11219
    g = np.array([11.219499588012695], dtype=np.float32)
    assert np.round(g * np.float32(1000.0))[0] == 11220.0
    assert to_counts(g, 1000.0).tolist() == [11219]


def test_the_sensor_model_uses_it():
    sensor = SensorModel(full_scale_g=8.0, resolution_bits=12)   # 256 LSB/g
    g = np.array([[0.1, -7.99, 9.0]], dtype=np.float32)
    np.testing.assert_array_equal(sensor.to_counts(g), to_counts(g, 256.0, 12))
    assert sensor.to_counts(g).tolist() == [[26, -2045, 2047]]


@pytest.mark.parametrize("counts_per_g, bits, match", [(0.0, 16, "counts_per_g"), (float("nan"), 16, "counts_per_g"),
                                                      (2048.0, 17, "resolution_bits")])
def test_bad_arguments_say_which(counts_per_g, bits, match):
    with pytest.raises(ConfigError, match=match):
        to_counts(np.zeros(3), counts_per_g, bits)
