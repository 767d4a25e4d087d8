"""The per-window table and codes written from a real device run (the session's shared result for
minmax): every figure of the report can be recomputed from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.quant.tflite import dequantize
from harness.suite.collapse import codes_band_metrics
from harness.suite.outputs import write_windows


@pytest.mark.parametrize("hil_model_name", ["minmax"])
def test_window_table_recomputes_the_report(hil_suite_result, tmp_path):
    run, report = hil_suite_result.run, hil_suite_result.report
    paths = write_windows([run], tmp_path)
    table = pd.read_parquet(paths["parquet"])
    csv = pd.read_csv(paths["csv"])
    assert len(table) == len(csv) == run.windows
    assert list(table["scenario"].unique()) == ["normal", "pre_failure", "impact", "mixed", "shock_sweep"]
    classes = run.model.classes
    device = table[[f"device_code_{c}" for c in classes]].to_numpy()
    np.testing.assert_array_equal(device, table[[f"host_code_{c}" for c in classes]].to_numpy())
    np.testing.assert_allclose(table[[f"device_p_{c}" for c in classes]].to_numpy(),
                               dequantize(device, run.model.output_params), rtol=0, atol=1e-7)
    for c in classes:
        mask = table["label"] == c
        recall = float((table.loc[mask, "device_argmax"] == c).mean())
        assert recall == pytest.approx(report.outputs["recall_device"][c], abs=1e-6)   # reports round to 6 digits
        recall = float((table.loc[mask, "float_argmax"] == c).mean())
        assert recall == pytest.approx(report.outputs["recall_float"][c], abs=1e-6)
    sweep = table[table["scenario"] == "shock_sweep"]
    assert sorted(sweep["shock_peak_g"].unique()) == [float(p) for p in range(1, 17)]
    # a real inference of a 3-axis fixture: ~0.48 M instructions with the optimized kernels (7.2 M
    # with the reference ones); a window the engine skipped would cost a few hundred
    assert (table["cost"] > 200_000).all() and set(table["cost_unit"]) == {"instructions"}

    arrays = np.load(paths["codes"])
    counts, codes = arrays["minmax__counts"], arrays["minmax__input_codes"]
    assert counts.shape == (run.windows, 128, 3) and codes.shape == (run.windows, 128, 3)
    watched = table["label"].isin(["normal", "pre_failure"]).to_numpy()
    again = codes_band_metrics(run.model.scaler, run.model.input_params, counts[watched].reshape(-1, 3) / run.model.counts_per_g,
                               codes[watched].reshape(-1, 3), report.band.band, "minmax")
    assert again.to_dict() == report.band.to_dict()
