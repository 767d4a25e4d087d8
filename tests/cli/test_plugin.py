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


def test_a_session_inside_another_leaves_the_outer_ones_children_running(pytester, tmp_path):
    """pytester runs a session in this process: its end must stop only what it started, not the
    targets of the session around it (seen: the layer tests' QEMU killed mid-run under xdist)."""
    from harness.process import live_pids, spawn, terminate
    log = open(tmp_path / "outer.log", "w")
    outer = spawn(["sleep", "60"], log_file=log)
    try:
        pytester.makepyfile(PROBE)
        result = pytester.runpytest("-p", "no:cacheprovider")
        result.assert_outcomes(passed=2)
        assert outer.poll() is None and outer.pid in live_pids()
    finally:
        terminate(outer)
        log.close()
    assert outer.pid not in live_pids()


def test_a_session_still_stops_and_reports_its_own_leftovers(pytester):
    pytester.makepyfile("""
from harness.process import spawn

def test_leaks(tmp_path):
    spawn(["sleep", "60"], log_file=open(tmp_path / "leak.log", "w"))
""")
    from harness.process import live_pids
    before = set(live_pids())
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*hil: target processes * were still running at session end (now stopped)*"])
    assert set(live_pids()) == before
