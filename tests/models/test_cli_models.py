"""hil models and hil train from the command line."""

from __future__ import annotations

import importlib.util

import pytest
from model_cases import MODELS_DIR

from harness.cli.main import main


def test_models_lists_committed(capsys):
    assert main(["models", "--dir", str(MODELS_DIR)]) == 0
    out = capsys.readouterr().out
    assert "minmax " in out and "two_stage" in out and "[1, 128, 6]" in out


def test_models_table(capsys, reports):
    assert main(["models", "--dir", str(MODELS_DIR), "--table", "--only", "minmax", "two_stage"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("| minmax ")]
    assert len(lines) == 1
    cells = [c.strip() for c in lines[0].strip("|").split("|")]
    int8_normal = float(cells[8])
    assert int8_normal == pytest.approx(reports["minmax"].accuracy["int8"]["per_class"]["normal"],
                                        abs=5e-4)
    assert "| two_stage | two_stage | PTQ |" in out


def test_models_unknown_name(capsys):
    assert main(["models", "--dir", str(MODELS_DIR), "--only", "nonesuch"]) == 2
    assert "no model(s) nonesuch" in capsys.readouterr().err


def test_models_missing_dir(tmp_path, capsys):
    assert main(["models", "--dir", str(tmp_path / "absent")]) == 2
    assert "models folder does not exist (hil train or hil bundle writes one)" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None,
                    reason="TensorFlow is installed here; this checks the message without it")
def test_train_without_tensorflow_says_how_to_install(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--only", "minmax"]) == 2
    assert "pip install -e '.[ml]'" in capsys.readouterr().err
