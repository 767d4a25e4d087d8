"""The plugin's suite options and parametrization in a throwaway project (pytester, no device):
parametrize > command line > ini > default."""

from __future__ import annotations

import pytest

from harness.bundle.load import list_bundles
from harness.paths import MODELS_DIR

PROBE = """
import pytest

def test_config(hil_suite_config):
    c = hil_suite_config
    print(f"WINDOWS={c.windows} SWEEP={c.sweep_windows} SEED={c.seed} BITS={c.thresholds.input.collapsed_bits} "
          f"DROP={c.thresholds.collapsed_recall_drop} BAND={c.band}")

@pytest.mark.parametrize("hil_windows", [5])
def test_parametrized_windows(hil_suite_config):
    print(f"PARAM_WINDOWS={hil_suite_config.windows}")

def test_models(hil_model_name):
    print(f"MODEL={hil_model_name}")

@pytest.mark.parametrize("hil_model_name", ["robust"])
def test_own_models(hil_model_name):
    print(f"OWN={hil_model_name}")
"""


def test_defaults(pytester):
    pytester.makepyfile(PROBE)
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    fixtures = len(list_bundles(MODELS_DIR))
    assert fixtures >= 8
    result.assert_outcomes(passed=2 + fixtures + 1)   # 2 + one per fixture model + 1
    # the defaults are hil run's (one table); BAND=None: each bundle's own band
    result.stdout.fnmatch_lines(["*WINDOWS=64 SWEEP=3 SEED=7000 BITS=5.5 DROP=0.25 BAND=None*",
                                 "*PARAM_WINDOWS=5*", "*MODEL=log1p*", "*MODEL=two_stage*", "*OWN=robust*"])


def test_ini_then_command_line_then_parametrize(pytester):
    pytester.makeini("[pytest]\nhil_windows = 16\nhil_models = minmax\nhil_collapsed_bits = 4.5\n")
    pytester.makepyfile(PROBE)
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*WINDOWS=16 SWEEP=3 SEED=7000 BITS=4.5*", "*PARAM_WINDOWS=5*", "*MODEL=minmax*"])
    result = pytester.runpytest("-s", "-p", "no:cacheprovider", "--hil-windows", "8", "--hil-models", "robust,log1p",
                                "--hil-collapsed-recall-drop", "0.3", "--hil-band", "0.1:2")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*WINDOWS=8 SWEEP=3 SEED=7000 BITS=4.5 DROP=0.3 BAND=0.1-2 g*",
                                 "*PARAM_WINDOWS=5*", "*MODEL=robust*", "*MODEL=log1p*", "*OWN=robust*"])


@pytest.mark.parametrize("option, value", [("--hil-windows", "2"), ("--hil-band", "1.5:0.2")])
def test_bad_values_are_usage_errors(pytester, option, value):
    pytester.makepyfile(PROBE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_config", option, value)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*ERROR*test_config*"])
