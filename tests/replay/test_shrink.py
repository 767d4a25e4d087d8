"""ddmin, shrinking a disagreement to one window of samples, saving and re-checking a case."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.replay.cases import case_triage, check_case_on_host, load_case
from harness.replay.reader import ChunkedTrace
from harness.replay.run import triage_recording
from harness.replay.shrink import ddmin, save_case, shrink
from harness.replay.triage import HostTriage

from replay_cases import short_recording


@pytest.mark.parametrize("needed", [{7}, {3, 11}, {0, 5, 9, 15}, set(range(16))])
def test_ddmin_finds_the_needed_items(needed):
    calls = []

    def fails(items):
        calls.append(len(items))
        return needed <= set(items)

    assert set(ddmin(list(range(16)), fails)) == needed
    assert len(calls) < 80


def test_ddmin_result_is_one_minimal_for_any_of_several_causes():
    # fails if the subset holds any one of 4, 12: the result is one of them alone
    result = ddmin(list(range(16)), lambda items: bool({4, 12} & set(items)))
    assert result in ([4], [12])


def test_ddmin_refuses_an_input_that_does_not_fail():
    with pytest.raises(ConfigError, match="does not reproduce"):
        ddmin([1, 2, 3], lambda items: False)


@pytest.fixture(scope="module")
def triaged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shrink")
    recording = short_recording(folder / "field.parquet")
    triage = HostTriage("minmax")
    trace = ChunkedTrace(recording, chunk_rows=16384)
    return trace, triage, triage_recording(trace, triage, folder)


def test_shrink_reduces_a_neighbourhood_to_one_window(triaged, tmp_path):
    trace, triage, outcome = triaged
    target = outcome.disagreements[3]
    segment = shrink(trace, triage, target, neighbourhood=8)
    assert segment["rows"] == 128 and segment["neighbourhood_rows"] == 17 * 128
    assert segment["window_tests"] < 40
    windows = segment["g"].reshape(1, 128, 3)
    result = triage.run(windows)
    assert (triage.classes[result.float_class[0]], triage.classes[result.int8_class[0]]) == \
        ("normal", "pre_failure")
    path = save_case(tmp_path, "case_a", segment, triage, {"recording": "field.parquet"}, target)
    case = json.loads(path.read_text())
    assert case["model"] == "minmax" and case["provenance"]["rows"] == 128
    assert case["provenance"]["window_index"] == target["index"]
    assert case["expected"]["windows"][0]["float_class"] == "normal"
    loaded = load_case(path)
    assert check_case_on_host(loaded, case_triage(loaded)) == []
    np.testing.assert_allclose(loaded.windows_g[0], segment["g"], atol=1e-9)


def test_a_case_whose_disagreement_is_gone_is_reported(triaged, tmp_path):
    trace, triage, outcome = triaged
    segment = shrink(trace, triage, outcome.disagreements[0])
    path = save_case(tmp_path, "case_b", segment, triage, {}, outcome.disagreements[0])
    case = json.loads(path.read_text())
    case["expected"]["windows"][0]["int8_class"] = "normal"
    path.write_text(json.dumps(case))
    loaded = load_case(path)
    assert any("expected float normal, INT8 normal" in p for p in check_case_on_host(loaded, triage))


def test_a_case_for_a_changed_model_is_refused(triaged, tmp_path):
    trace, triage, outcome = triaged
    segment = shrink(trace, triage, outcome.disagreements[0])
    path = save_case(tmp_path, "case_c", segment, triage, {}, outcome.disagreements[0])
    case = json.loads(path.read_text())
    case["model_sha256"] = "0" * 64
    path.write_text(json.dumps(case))
    with pytest.raises(ConfigError, match="changed since the case was saved"):
        case_triage(load_case(path))
