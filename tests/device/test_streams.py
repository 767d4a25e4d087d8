"""Raw sensor windows of every scenario through every model on the device, element for element:
device outputs == tflite_micro's, device input codes == the host mirror's (harness.quant.fold)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from harness.device import infer_windows, load_model, set_preprocess
from harness.device.oracle import reference_outputs
from harness.signals.synth import SCENARIOS

from device_cases import ALL_MODELS, fold_for, scenario_counts, skip_without_16x8_kernels, windows_per_scenario

SCENARIO_NAMES = sorted(SCENARIOS)


@pytest.fixture(scope="module")
def throughput():
    figures = []
    yield figures
    if figures:
        windows = sum(n for n, _ in figures)
        seconds = sum(s for _, s in figures)
        print(f"\ndevice streams: {windows} windows in {seconds:.1f} s = {windows / seconds:.0f} windows/s")


@pytest.mark.parametrize("case", ALL_MODELS, ids=lambda c: c.name)
def test_every_scenario_through_model(pipeline_device, case, throughput):
    client = pipeline_device.client
    skip_without_16x8_kernels(case)
    model = load_model(client, case.model)
    if model.input.dtype not in (np.int8, np.int16):
        pytest.skip(f"{case.name}: input is {model.input.dtype}; raw windows need an int8 or int16 input")
    fold = fold_for(case, model.input.scale, model.input.zero_point, model.input.channels,
                    model.input.dtype.name)
    set_preprocess(client, fold)
    n = windows_per_scenario()
    for scenario in SCENARIO_NAMES:
        counts = scenario_counts(scenario, n, model.window_len, seed=len(scenario))
        started = time.monotonic()
        # mirror=fold: raises PipelineMismatchError on any input code difference
        result = infer_windows(client, counts, model=model, mirror=fold)
        throughput.append((n, time.monotonic() - started))
        host_codes = fold.codes(counts).reshape((n,) + model.input.shape)
        np.testing.assert_array_equal(result.input_codes, host_codes, err_msg=f"{scenario}: input codes")
        expected = reference_outputs(case.model, result.input_codes)
        assert result.outputs.dtype == expected.dtype
        np.testing.assert_array_equal(result.outputs, expected, err_msg=f"{scenario}: outputs vs tflite_micro")
        assert result.cost.shape == (n,) and (result.cost > 0).all()
        assert result.cost_unit == "instructions"
