"""The per-layer figures against hand-computed cases (harness.layers.figures)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.layers.figures import (IDEAL_INT8_SQNR_DB, codes_per_channel, error_jump, figures_of, l2r, range_ratio,
                                    rmse, saturation_share, sqnr_db)

FLOAT = np.array([1.0, -1.0, 1.0, -1.0])      # signal power sum 4
APPROX = np.array([1.5, -1.0, 1.0, -1.0])     # one error of 0.5: error power sum 0.25


def test_sqnr_rmse_l2r_of_one_error():
    assert sqnr_db(FLOAT, APPROX) == pytest.approx(10 * math.log10(4 / 0.25))   # 12.04 dB
    assert sqnr_db(FLOAT, APPROX) == pytest.approx(12.0412, abs=1e-4)
    assert rmse(FLOAT, APPROX) == pytest.approx(math.sqrt(0.25 / 4))            # 0.25
    assert l2r(FLOAT, APPROX) == pytest.approx(0.5 / 2.0)                       # ||e|| / ||f||
    assert sqnr_db(FLOAT, APPROX) == pytest.approx(-20 * math.log10(l2r(FLOAT, APPROX)))


def test_sqnr_of_a_uniform_error():
    # f = 3 everywhere, error 0.3 everywhere: SQNR = 10 log10(9 / 0.09) = 20 dB, L2R 0.1
    f = np.full((2, 5), 3.0)
    assert sqnr_db(f, f + 0.3) == pytest.approx(20.0)
    assert l2r(f, f - 0.3) == pytest.approx(0.1)
    assert rmse(f, f + 0.3) == pytest.approx(0.3)


def test_edge_cases():
    assert sqnr_db(FLOAT, FLOAT) == math.inf
    assert sqnr_db(np.zeros(3), np.ones(3)) == -math.inf
    assert math.isnan(sqnr_db(np.zeros(3), np.zeros(3)))
    assert l2r(np.zeros(3), np.zeros(3)) == 0.0 and l2r(np.zeros(3), np.ones(3)) == math.inf
    with pytest.raises(ValueError):
        sqnr_db(np.zeros(3), np.zeros(4))


def test_range_ratio_saturation_and_codes_per_channel():
    # float range 2 over 255 steps of 0.5: the tensor spans 2 / 127.5 of the grid
    assert range_ratio(FLOAT, 0.5) == pytest.approx(2 / 127.5)
    assert range_ratio(np.array([-1.0, 1.0]), 2 / 255) == pytest.approx(1.0)
    assert math.isnan(range_ratio(FLOAT, None))
    assert saturation_share(np.array([-128, 127, 0, 5], np.int8)) == 0.5
    assert saturation_share(np.array([-127, 126], np.int8)) == 0.0
    assert math.isnan(saturation_share(np.array([1.0], np.float32)))
    codes = np.array([[[1, 5], [1, 6], [2, 5]],
                      [[3, 5], [1, 5], [1, 5]]], np.int8)   # 2 windows x 3 positions x 2 channels
    assert codes_per_channel(codes).tolist() == [3, 2]


def test_figures_of_dequantizes_the_codes():
    codes = np.array([[3, -2, 2, -2]], np.int8)              # scale 0.5, zp 0 -> APPROX
    fig = figures_of(0, "CONV_2D #0", 0, "CONV_2D", codes, 0.5, 0, FLOAT[None])
    assert fig.sqnr_db == pytest.approx(12.0412, abs=1e-4)
    assert fig.rmse == pytest.approx(0.25) and fig.l2r == pytest.approx(0.25)
    assert fig.range_ratio == pytest.approx(2 / 127.5)
    assert fig.saturation == 0.0 and fig.shape == (4,)
    assert (fig.codes_min, fig.codes_median) == (1, 1.0)  # one channel per position (last axis 4 wide)
    # zero point: codes 8, 6, 6, 6 at zp 4 and scale 0.25 are 1, 0.5, 0.5, 0.5
    fig = figures_of(0, "x", 0, "ADD", np.array([[8, 6, 6, 6]], np.int8), 0.25, 4, np.array([[1.0, 0.5, 0.5, 0.5]]))
    assert fig.sqnr_db == math.inf and fig.rmse == 0.0


def test_error_jump_is_the_largest_drop_between_consecutive_layers():
    # drops: 49.9 - 45 = 4.9, 5, 25, 1 -> the third layer
    jump = error_jump([45.0, 40.0, 15.0, 14.0])
    assert jump.index == 2 and jump.drop_db == pytest.approx(25.0) and jump.is_jump
    # a badly scaled input is a drop at the input, measured from the ideal INT8 SQNR
    jump = error_jump([30.0, 28.0, 10.0, 12.0])
    assert jump.index == 0 and jump.drop_db == pytest.approx(IDEAL_INT8_SQNR_DB - 30.0)
    # no error at all counts as the ideal: [inf, 30] drops 0 then 19.9 dB
    jump = error_jump([math.inf, 30.0])
    assert jump.index == 1 and jump.drop_db == pytest.approx(IDEAL_INT8_SQNR_DB - 30.0)
    # small drops are not called a jump (under one bit, 6 dB)
    assert not error_jump([47.0, 46.0, 45.5]).is_jump
    assert error_jump([]) is None
