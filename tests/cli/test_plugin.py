"""The pytest plugin in a throwaway project (pytester): options, ini, marker, auto-marking."""

from __future__ import annotations

PROBE = """
import pytest
from harness.pytest_plugin import hil_option, hil_target_setup

def test_options(pytestconfig):
    target, firmware_board, _ = hil_target_setup(pytestconfig)
    print("TARGET=" + hil_option(pytestconfig, "target"), "BOARD=" + firmware_board)

@pytest.fixture
def hil_device():  # stand-in: these tests must not start QEMU
    return "device"

def test_uses_device(hil_device):
    assert hil_device == "device"
"""


def test_defaults_and_marker(pytester):
    pytester.makepyfile(PROBE)
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*TARGET=qemu BOARD=netduinoplus2*"])
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.hil_device: needs a device*"])


def test_command_line_beats_ini(pytester):
    pytester.makeini("[pytest]\nhil_target = renode\nhil_board = nucleo_f446re\n")
    pytester.makepyfile(PROBE)
    result = pytester.runpytest("-s", "--hil-board", "netduinoplus2")
    result.stdout.fnmatch_lines(["*TARGET=renode BOARD=netduinoplus2*"])


def test_device_tests_are_marked_and_deselectable(pytester):
    pytester.makepyfile(PROBE)
    result = pytester.runpytest("-m", "not hil_device")
    result.assert_outcomes(passed=1, deselected=1)
