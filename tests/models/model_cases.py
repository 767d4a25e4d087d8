"""Paths and markers shared by the model tests.

A plain module, not conftest.py: several test folders have a conftest, and ``from conftest
import`` would pick whichever was imported first.
"""

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
