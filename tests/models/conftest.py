"""Session fixtures of the model tests (constants live in model_cases.py)."""

from __future__ import annotations

import pytest
from model_cases import MODELS_DIR


@pytest.fixture(scope="session")
def held_out():
    """The held-out set the committed models were scored on (rebuilt from their metadata)."""
    from harness.models.evaluate import held_out_for
    from harness.models.metadata import read_metadata
    return held_out_for(read_metadata(MODELS_DIR / "minmax.json"))


@pytest.fixture(scope="session")
def reports(held_out):
    """hil models --table figures for every committed model, recomputed with TFLite Micro."""
    from harness.bundle.load import load_bundle
    from harness.models.evaluate import report_model
    return {path.stem: report_model(load_bundle(path), held_out) for path in sorted(MODELS_DIR.glob("*.json"))}
