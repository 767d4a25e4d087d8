"""Scalers against scikit-learn as the independent oracle, plus their bad-input contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import preprocessing as skp

from harness.errors import ScalerError
from harness.quant.scalers import (
    from_export, make_scaler, parse_scaler_spec, scaler_names)
from harness.quant.tflite import choose_quantization_params


@pytest.fixture(scope="module")
def calibration_g():
    rng = np.random.default_rng(11)
    g = rng.normal([0.0, 0.0, 1.0], [0.5, 0.4, 0.3], size=(4000, 3))
    g[1234] = [0.5, -2.0, 9.13]  # one shock
    return g


def test_registry_lists_every_kind():
    assert scaler_names() == ["log1p", "minmax", "robust", "two_stage", "zscore"]


def test_unknown_name_lists_known_names():
    with pytest.raises(ScalerError, match="unknown scaler 'minmaxx'; known scalers: log1p, minmax"):
        make_scaler("minmaxx")


def test_unknown_parameter_lists_known_parameters():
    with pytest.raises(ScalerError, match="no parameter.*clip_iqr.*known: clip, clip_hi"):
        make_scaler("robust", clip_iqr=3)


def test_minmax_matches_sklearn(calibration_g):
    ours = make_scaler("minmax").fit(calibration_g)
    oracle = skp.MinMaxScaler().fit(calibration_g)
    np.testing.assert_allclose(ours.transform(calibration_g), oracle.transform(calibration_g),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.fitted["data_min_g"], oracle.data_min_)
    np.testing.assert_allclose(ours.inverse(ours.transform(calibration_g)), calibration_g, atol=1e-12)


@pytest.mark.parametrize("quantile_range", [(25.0, 75.0), (10.0, 90.0)])
def test_robust_without_clip_matches_sklearn(calibration_g, quantile_range):
    ours = make_scaler("robust", clip="none", quantile_lo=quantile_range[0],
                       quantile_hi=quantile_range[1]).fit(calibration_g)
    oracle = skp.RobustScaler(quantile_range=quantile_range).fit(calibration_g)
    np.testing.assert_allclose(ours.fitted["center_g"], oracle.center_, rtol=1e-12)
    np.testing.assert_allclose(ours.fitted["width_g"], oracle.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(calibration_g), oracle.transform(calibration_g),
                               rtol=1e-12, atol=1e-12)


def test_robust_clip_is_sklearn_then_clip(calibration_g):
    ours = make_scaler("robust", clip_lo=-1.5, clip_hi=2.5).fit(calibration_g)
    oracle = skp.RobustScaler().fit(calibration_g)
    expected = np.clip(oracle.transform(calibration_g), -1.5, 2.5)
    np.testing.assert_allclose(ours.transform(calibration_g), expected, atol=1e-12)
    saturated = ours.saturation_mask(calibration_g)
    np.testing.assert_array_equal(saturated, (oracle.transform(calibration_g) < -1.5)
                                  | (oracle.transform(calibration_g) > 2.5))
    assert saturated[1234, 2]  # the shock is clipped


def test_zscore_matches_sklearn(calibration_g):
    ours = make_scaler("zscore").fit(calibration_g)
    oracle = skp.StandardScaler().fit(calibration_g)
    np.testing.assert_allclose(ours.transform(calibration_g), oracle.transform(calibration_g),
                               rtol=1e-10, atol=1e-12)


def test_windowed_calibration_is_the_same_as_flat(calibration_g):
    windows = calibration_g.reshape(40, 100, 3)
    flat = make_scaler("robust").fit(calibration_g)
    windowed = make_scaler("robust").fit(windows)
    np.testing.assert_array_equal(flat.fitted["center_g"], windowed.fitted["center_g"])
    assert windowed.transform(windows).shape == (40, 100, 3)


def test_log1p_centres_on_the_median():
    calibration = np.array([[0.0, 1.0], [0.2, 1.1], [-0.2, 0.9]])
    scaler = make_scaler("log1p").fit(calibration)
    np.testing.assert_allclose(scaler.fitted["center_g"], [0.0, 1.0])
    np.testing.assert_allclose(scaler.transform(np.array([[0.2, 1.2]])), [[np.log(2.0), np.log(2.0)]])
    np.testing.assert_allclose(scaler.inverse(scaler.transform(calibration)), calibration, atol=1e-12)


def test_log1p_is_odd_and_invertible():
    scaler = make_scaler("log1p", knee_g=0.5, center="none").fit(np.array([[-1.0], [2.0]]))
    g = np.array([-8.13, -1.0, -0.2, 0.0, 0.2, 1.0, 8.13])
    y = scaler.transform(g)
    np.testing.assert_allclose(y, np.sign(g) * np.log1p(np.abs(g) / 0.5))
    np.testing.assert_allclose(y, -scaler.transform(-g))
    np.testing.assert_allclose(scaler.inverse(y), g, atol=1e-12)
    np.testing.assert_allclose(scaler.g_per_unit(g), 0.5 + np.abs(g))


def test_two_stage_doubles_channels(calibration_g):
    scaler = make_scaler("two_stage").fit(calibration_g)
    assert scaler.output_channels == 6
    assert scaler.source_axis.tolist() == [0, 1, 2, 0, 1, 2]
    y = scaler.transform(calibration_g)
    assert y.shape == (4000, 6)
    median = np.median(calibration_g, axis=0)
    halfwidth = np.percentile(np.abs(calibration_g - median), 99.9, axis=0)
    np.testing.assert_allclose(y[:, :3], np.clip((calibration_g - median) / halfwidth, -1, 1))
    np.testing.assert_allclose(y[:, 3:], calibration_g / 16.0)
    assert y[1234, 2] == 1.0 and y[1234, 5] == pytest.approx(9.13 / 16)  # fine saturates, coarse keeps it
    back = scaler.inverse(y, saturated=scaler.saturation_mask(calibration_g))
    np.testing.assert_allclose(back, calibration_g, atol=1e-12)


def test_two_stage_channels_share_one_int8_range(calibration_g):
    y = make_scaler("two_stage").fit(calibration_g).transform(calibration_g)
    params = choose_quantization_params(y.min(), y.max())
    assert params.zero_point == -1 and params.scale == pytest.approx(2 / 255)


@pytest.mark.parametrize("name", ["minmax", "robust", "zscore", "log1p", "two_stage"])
def test_export_round_trip(calibration_g, name):
    scaler = make_scaler(name).fit(calibration_g)
    exported = json.loads(json.dumps(scaler.export()))
    assert exported["kind"] == name
    assert exported["output_channels"] == scaler.output_channels
    rebuilt = from_export(exported)
    np.testing.assert_array_equal(rebuilt.transform(calibration_g), scaler.transform(calibration_g))
    if scaler.affine:
        form = exported["affine"]
        y = calibration_g[:, form["source_axis"]] * form["gain"] + form["offset"]
        np.testing.assert_allclose(np.clip(y, form["clip_lo"], form["clip_hi"]),
                                   scaler.transform(calibration_g), atol=1e-9)


def test_export_with_quantization_includes_the_integer_form(calibration_g):
    scaler = make_scaler("robust").fit(calibration_g)
    params = choose_quantization_params(-2.0, 2.0)
    from harness.quant.fold import export_with_fixed_point
    exported = export_with_fixed_point(scaler, params, 2048.0)
    fixed = exported["fixed_point"]
    assert fixed["kind"] == "affine" and len(fixed["channels"]) == 3
    assert all(1 <= c["shift"] <= 62 and abs(c["multiplier"]) < 2 ** 31 for c in fixed["channels"])
    json.dumps(exported)
    with pytest.raises(ScalerError, match="counts_per_g"):
        export_with_fixed_point(scaler, params, None)


def test_parse_scaler_spec():
    scaler = parse_scaler_spec("robust:clip_lo=-1,clip_hi=1.5")
    assert scaler.params["clip_lo"] == -1.0 and scaler.params["clip_hi"] == 1.5
    assert parse_scaler_spec("robust:clip=none").params["clip"] == "none"
    assert parse_scaler_spec("two_stage:fine_halfwidth_g=1.6").params["fine_halfwidth_g"] == 1.6
    with pytest.raises(ScalerError, match="not a number"):
        parse_scaler_spec("log1p:knee_g=abc")
    with pytest.raises(ScalerError, match="unknown scaler"):
        parse_scaler_spec("nope")


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", scaler_names())
def test_empty_calibration_is_an_error(name):
    with pytest.raises(ScalerError, match="empty"):
        make_scaler(name).fit(np.empty((0, 3)))


@pytest.mark.parametrize("name", scaler_names())
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_calibration_names_sample_and_axis(name, bad):
    g = np.ones((10, 3)) * np.arange(10)[:, None]
    g[7, 1] = bad
    with pytest.raises(ScalerError, match="sample 7, ay_g"):
        make_scaler(name).fit(g)


@pytest.mark.parametrize("name", ["minmax", "robust", "zscore", "two_stage"])
def test_constant_channel_is_an_error_not_a_division_by_zero(name):
    g = np.column_stack([np.linspace(-1, 1, 50), np.linspace(-1, 1, 50), np.full(50, 1.0)])
    with pytest.raises(ScalerError, match="az_g has zero"):
        make_scaler(name).fit(g)


def test_log1p_constant_signal_is_a_defined_result():
    y = make_scaler("log1p").fit(np.full((20, 3), 1.0)).transform(np.full((20, 3), 1.0))
    assert np.isfinite(y).all()


def test_transform_checks_input(calibration_g):
    scaler = make_scaler("minmax")
    with pytest.raises(ScalerError, match="not fitted"):
        scaler.transform(calibration_g)
    scaler.fit(calibration_g)
    with pytest.raises(ScalerError, match="fitted on 3 channel"):
        scaler.transform(np.zeros((5, 2)))
    with pytest.raises(ScalerError, match="non-finite"):
        scaler.transform(np.array([[0.0, np.nan, 0.0]]))


def test_bad_parameters():
    with pytest.raises(ScalerError, match="knee_g"):
        make_scaler("log1p", knee_g=0.0)
    with pytest.raises(ScalerError, match="center"):
        make_scaler("log1p", center="mean")
    with pytest.raises(ScalerError, match="clip policy"):
        make_scaler("robust", clip="sometimes")
    with pytest.raises(ScalerError, match="clip_lo < clip_hi"):
        make_scaler("robust", clip_lo=1.0, clip_hi=-1.0)
    with pytest.raises(ScalerError, match="quantile"):
        make_scaler("robust", quantile_lo=80.0)
    with pytest.raises(ScalerError, match="kind"):
        from_export({"params": {}})
