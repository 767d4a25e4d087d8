"""judge_layers on QEMU: minmax's report says where its error appears, with the figures; robust's
shows no jump; the plot and ``hil layers``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.layers import judge_layers
from harness.layers.judge import FLOOR_DB, failing_windows
from harness.suite.config import SuiteConfig
from harness.suite.suite_model import load_suite_model

WINDOWS = 12


@pytest.fixture(scope="module")
def models():
    return load_suite_model("minmax"), load_suite_model("robust")


@pytest.fixture(scope="module")
def failing(models):
    """The normal windows the INT8 minmax model gets wrong (the suite's COLLAPSED windows)."""
    minmax, _ = models
    normal = next(s for s in minmax.scenarios(SuiteConfig(windows=WINDOWS)) if s.name == "normal")
    wrong = failing_windows(minmax, normal)
    assert len(wrong) >= WINDOWS // 2, "minmax should get most normal windows wrong"
    return normal.g[wrong], normal.counts[wrong]


@pytest.fixture(scope="module")
def report(layers_device, models, failing):
    minmax, robust = models
    g, counts = failing
    return judge_layers(layers_device.client, minmax, g, compare=robust, counts=counts)


def test_minmax_report_says_where_the_error_appears(report):
    m, r = report.model, report.compare
    assert report.has_jump and report.starts_at_input
    # the input spans a quarter of the INT8 steps (robust: ~90 %), and CONV_2D #1 is already behind
    assert m.input.range_ratio < 0.3 < 0.8 < r.input.range_ratio
    conv1 = m.at(1)
    assert conv1.label == "CONV_2D #1" and conv1.sqnr_db < r.at(1).sqnr_db - 3
    lossy = m.first_lossy()
    assert lossy.label == "CONV_2D #3" and lossy.sqnr_db < FLOOR_DB < r.at(lossy.position).sqnr_db
    assert m.output.sqnr_db < 5 < 20 < r.output.sqnr_db
    reason = report.reason()
    assert reason.startswith("the loss starts at the input")
    assert f"CONV_2D #1 already has SQNR {conv1.sqnr_db:.1f} dB against {r.at(1).sqnr_db:.1f} dB for robust" in reason
    assert "CONV_2D #3" in reason and "jumps most at FULLY_CONNECTED #5" in reason
    assert all(f.cost and f.cost > 0 for f in m.figures if f.position >= 0)


def test_robust_report_shows_no_jump(layers_device, models, failing):
    _, robust = models
    g, counts = failing
    report = judge_layers(layers_device.client, robust, g, counts=counts)
    assert not report.has_jump and report.model.jump() is None
    assert min(f.sqnr_db for f in report.model.figures) > FLOOR_DB
    assert report.reason().startswith("no jump: every layer keeps SQNR >= 20 dB")


def test_table_and_plot(report):
    table = report.table().splitlines()
    assert table[0].split()[:5] == ["layer", "shape", "scale", "zp", "SQNR"] and len(table) == 1 + 8
    png = report.plot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    summary = report.to_dict()
    assert summary["model"]["first_lossy"] == "CONV_2D #3" and summary["compare"]["jump"] is None


def test_hil_layers_prints_the_table_and_writes_the_plot(layers_image, tmp_path, capsys):
    from harness.cli.main import main
    code = main(["layers", "--target", "qemu", "--elf", str(layers_image.elf), "--model", "minmax",
                 "--compare", "robust", "--windows", "4", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "4 windows the INT8 model gets wrong of scenario normal" in out
    assert "minmax: the loss starts at the input" in out
    assert (tmp_path / "minmax_sqnr_layers.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((tmp_path / "minmax_layers.json").read_text())
    assert saved["has_jump"] and len(saved["model"]["layers"]) == 8
    assert np.isfinite(saved["model"]["layers"][1]["sqnr_db"])
