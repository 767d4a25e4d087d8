"""A team's own model through the main job on QEMU: hil run --bundle judges the activity model
(4 classes, 32-sample windows at 50 Hz, none of it the fixtures'), and the library call gives
the same figures as hil run."""

from __future__ import annotations

import json

import pytest
from bundle_cases import hil, make_bundle

from harness.suite.checks import CHECKS
from harness.suite.config import SuiteConfig

pytestmark = [pytest.mark.hil_device, pytest.mark.timeout(600)]
FAST = ["--windows", "16", "--sweep-windows", "1", "--no-progress"]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundles")
    return {v: make_bundle(v, folder) for v in ("minmax", "robust")}


@pytest.fixture(scope="module")
def judged(bundles, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = hil(["run", "--bundle", str(bundles["minmax"]), "--bundle", str(bundles["robust"]), "--out", str(out),
                  *FAST], out)
    return result, json.loads((out / "summary.json").read_text()), out


def test_the_outlier_fitted_min_max_is_collapsed_with_reasons_and_its_own_recommendations(judged):
    result, summary, _ = judged
    minmax = next(m for m in summary["models"] if m["model"] == "activity_minmax")
    assert (minmax["verdict"], minmax["input_verdict"]) == ("COLLAPSED", "COLLAPSED"), minmax["reasons"]
    assert minmax["watched_classes"] == ["idle", "walking", "running", "handling"]
    assert minmax["band_codes"] < 46 and minmax["band_share"] < 0.15
    assert minmax["recall_drop_class"] == "idle" and minmax["recall_drop"] > 0.5
    # recommendations are fitted on the team's calibration file (its 8.13 g spike), and only
    # those that keep the band OK there are named
    keeping = [r for r in minmax["recommendations"] if r["status"] == "OK"]
    # min-max itself only at 16x8 (65536 input codes), never at INT8
    assert keeping and all(not r["spec"].startswith(("minmax", "zscore")) or r["spec"] == "minmax at 16x8"
                           for r in keeping)
    at_16x8 = next(r for r in minmax["recommendations"] if r["spec"] == "minmax at 16x8")
    assert at_16x8["codes_used"] > 256 and at_16x8["status"] == "OK"
    assert any("hil bundle it with the same scaler" in reason for reason in minmax["reasons"])
    assert any("these scalers keep the band OK: " + keeping[0]["spec"] in reason for reason in minmax["reasons"])
    assert any("peak 8.13 g" in reason for reason in minmax["reasons"])
    assert "activity_minmax COLLAPSED:" in result.stdout


def test_the_robust_variant_is_ok(judged):
    _, summary, _ = judged
    robust = next(m for m in summary["models"] if m["model"] == "activity_robust")
    assert (robust["verdict"], robust["input_verdict"], robust["device_status"]) == ("OK", "OK", "OK"), robust["reasons"]
    assert robust["exact_share"] == 1.0 and robust["recommendations"] == []


def test_a_collapsed_model_without_expectations_fails_the_run(judged):
    result, _, out = judged
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"expectations: FAILED (1 of {2 * len(CHECKS)} checks)" in result.stdout
    assert "activity_minmax: model_verdict: verdict COLLAPSED and the bundle expects nothing" in result.stdout
    junit = (out / "junit.xml").read_text()
    assert junit.count("<failure") == 1 and "test_model_verdict[activity_minmax]" in junit
    assert "data:image/png;base64," in (out / "report.html").read_text()


def test_the_same_collapse_expected_passes(bundles, tmp_path):
    expected = make_bundle("minmax", tmp_path, "--expect-verdict", "COLLAPSED", "--expect-input-verdict", "COLLAPSED")
    result = hil(["run", "--bundle", str(expected), "--out", str(tmp_path / "out"), *FAST], tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    assert f"expectations: all hold ({len(CHECKS)} checks)" in result.stdout


def test_the_library_call_gives_hil_run_s_figures(bundles, judged):
    """Same windows, same device, same figures: the summary hil run wrote against the library's."""
    from harness.suite.api import run_suite
    _, summary, _ = judged
    outcome = run_suite([bundles["minmax"], bundles["robust"]], config=SuiteConfig(windows=16, sweep_windows=1))
    assert not outcome.passed and [c.check for c in outcome.checks if not c.passed] == ["model_verdict"]
    ours = json.loads(json.dumps(outcome.summaries(), default=float))
    for mine, theirs in zip(ours, summary["models"]):
        for key in ("model", "verdict", "input_verdict", "band_codes", "band_bits", "band_share", "bits_lost",
                    "recall_float", "recall_device", "recall_drop", "exact_share", "windows", "reasons"):
            assert mine[key] == theirs[key], key
        for scenario, figures in mine["per_scenario"].items():
            for key in ("recall_float", "recall_device", "top1_agreement", "exact_share", "cost_median"):
                assert figures[key] == theirs["per_scenario"][scenario][key], (scenario, key)


def test_without_a_float_reference_the_report_says_which_figures_are_missing(tmp_path):
    """files.float is optional: the suite runs, says what it cannot compute, and judges the input."""
    from bundle_cases import ACTIVITY, CLASSES
    bundle = tmp_path / "no_float.json"
    args = ["bundle", "--int8", str(ACTIVITY / "activity_minmax.tflite"), "--scaler", str(ACTIVITY / "scaler_minmax.pkl"),
            "--classes", CLASSES, "--calibration", str(ACTIVITY / "calibration.csv"),
            "--recording", str(ACTIVITY / "recording.csv"), "--label-column", "activity",
            "--columns", "acc_x,acc_y,acc_z", "--rate-hz", "50", "--hop", "16", "--out", str(bundle)]
    assert hil(args, tmp_path).returncode == 0
    result = hil(["run", "--bundle", str(bundle), "--out", str(tmp_path / "out"), *FAST], tmp_path)
    model, = json.loads((tmp_path / "out" / "summary.json").read_text())["models"]
    assert result.returncode == 1, result.stderr[-2000:]   # the input codes are collapsed, no expectation
    assert any(r.startswith("no float reference in the bundle (files.float)") for r in model["reasons"])
    assert set(model["recall_float"].values()) == {None} and model["top1_agreement"] is None
    assert (model["input_verdict"], model["verdict"]) == ("COLLAPSED", "DEGRADED")   # the input alone
    assert model["exact_share"] == 1.0
    assert "-/0." in result.stdout    # float recall shown as missing in the table


def test_two_targets_give_the_results_of_one_window_for_window(bundles, tmp_path):
    """--jobs 2: one QEMU per model; the windows, codes, outputs and costs equal --jobs 1's."""
    import pandas as pd
    tables, summaries = {}, {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        result = hil(["run", "--bundle", str(bundles["minmax"]), "--bundle", str(bundles["robust"]), "--jobs", str(jobs),
                      "--out", str(out), *FAST], tmp_path)
        assert result.returncode == 1 and f"on {jobs} target(s)" in result.stdout, result.stdout[-1500:]
        tables[jobs] = pd.read_parquet(out / "windows.parquet")
        summaries[jobs] = json.loads((out / "summary.json").read_text())
    pd.testing.assert_frame_equal(tables[1], tables[2])
    assert summaries[2]["jobs"] == 2 and summaries[1]["jobs"] == 1
    for key in ("load", "build", "stream", "host_references", "analysis", "figures", "report_wait"):
        assert summaries[1]["phases_s"][key] >= 0.0, key
    assert 0 < summaries[1]["streaming_share"] <= 1.0
