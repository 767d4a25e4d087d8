"""Shared paths and helpers for the model tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "fixtures" / "models"
DATA_DIR = Path(__file__).resolve().parent / "data"
# The variants that must recover the min-max collapse in host INT8.
GOOD_MODELS = ("robust", "log1p", "two_stage", "robust_qat")

HAVE_TF = importlib.util.find_spec("tensorflow") is not None
needs_tf = pytest.mark.skipif(
    not HAVE_TF, reason="TensorFlow is not installed (training-only ml extra: "
                        "pip install -e '.[ml]'); the fixtures are checked without it elsewhere")


@pytest.fixture(scope="session")
def held_out():
    """The held-out set the committed models were scored on (rebuilt from their metadata)."""
    from harness.models.evaluate import held_out_for
    from harness.models.metadata import read_metadata
    return held_out_for(read_metadata(MODELS_DIR / "minmax.json"))


@pytest.fixture(scope="session")
def reports(held_out):
    """hil models --table figures for every committed model, recomputed with TFLite Micro."""
    from harness.models.evaluate import report_model
    return {path.stem: report_model(path, held_out) for path in sorted(MODELS_DIR.glob("*.json"))}
