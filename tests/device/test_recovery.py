"""Device faults (harness.device.recovery) on the real firmware in real QEMU, and through pyOCD's
reset on the emulated board: the test-only FAULT_ARM request makes the device hang or HardFault on
a chosen window, and the harness must reset it, retry the window once, record a DEVICE FAULT when
the retry fails too, and keep every window measured when it gives up."""

from __future__ import annotations

import numpy as np
import pytest

from harness.device.recovery import (HANG, HARDFAULT, LINK, REBOOT, DeviceRecovery, FaultInjection,
                                     fault_kind, infer_windows_recovering, parse_injection)
from harness.errors import (ConfigError, DeviceError, DeviceFaultError, DeviceLostError, DeviceRebootedError,
                            DeviceTimeoutError, FrameError, LinkError, ModelRejectedError, ProbeNotFoundError, ProtocolError,
                            StreamError)
from harness.link.protocol import FaultMode
from harness.suite.config import SuiteConfig
from harness.suite.suite_model import load_suite_model
from harness.suite.run import deployed_pipeline
from harness.suite.scenarios import make_scenario_windows
from harness.targets import running_device
from harness.process import live_pids

WINDOWS = 10
TIMEOUT_S = 1.5   # an inference takes ~10 ms on QEMU; a hung device is declared after this


# --- the rules, no device -----------------------------------------------------------------------

@pytest.mark.parametrize(("error", "kind"), [
    (DeviceTimeoutError("no reply"), HANG),
    (DeviceFaultError({"pc": 1}), HARDFAULT),
    (DeviceRebootedError("BOOT"), REBOOT),
    (LinkError("connection closed"), LINK),
    (DeviceError(17, "SHAPE_MISMATCH"), None),       # a refusal: the device keeps serving
    (FrameError("BAD_CRC", "crc"), None),
    (ProtocolError("odd reply"), None),
    (ValueError("host bug"), None),
    (None, None),
])
def test_fault_kind(error, kind):
    assert fault_kind(error) == kind


def test_each_branch_of_the_tree_carries_its_own_kind():
    """Link, refusal, fault and timeout are separate branches: none is a subclass of another, so
    no order of isinstance checks can confuse them."""
    branches = [LinkError, DeviceError, DeviceFaultError, DeviceTimeoutError]
    for branch in branches:
        assert not any(issubclass(branch, other) for other in branches if other is not branch), branch
    assert issubclass(DeviceRebootedError, DeviceFaultError) and not issubclass(DeviceRebootedError, LinkError)
    assert issubclass(ModelRejectedError, DeviceError)
    assert [b.kind for b in branches] == [LINK, "refused", HARDFAULT, HANG]
    assert (DeviceRebootedError.kind, FrameError.kind, ProtocolError.kind) == (REBOOT, "frame", "protocol")
    reboot = DeviceRebootedError("BOOT while serving INFO")
    assert reboot.registers == {} and str(reboot) == "BOOT while serving INFO"
    assert str(DeviceFaultError({"pc": 0x1F})) == "device HardFault: pc=0x0000001f"


@pytest.mark.parametrize(("text", "expected"), [
    ("hang@mixed:5", FaultInjection(FaultMode.HANG, 5, False, "mixed")),
    ("crash@normal:0:persistent", FaultInjection(FaultMode.CRASH, 0, True, "normal")),
    ("HANG@3", FaultInjection(FaultMode.HANG, 3, False, "")),
    ("hang@7:persistent", FaultInjection(FaultMode.HANG, 7, True, "")),
    ("", None),
])
def test_parse_injection(text, expected):
    assert parse_injection(text) == expected


@pytest.mark.parametrize("text", ["hang", "melt@3", "disarm@1", "hang@x", "hang@a:b:c", "hang@-1"])
def test_parse_injection_names_the_problem(text):
    with pytest.raises(ConfigError, match="fault injection"):
        parse_injection(text)


# --- on the device -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def suite_model():
    return load_suite_model("robust")


@pytest.fixture(scope="module")
def windows(suite_model):
    return make_scenario_windows("mixed", suite_model.dataset_config, WINDOWS, 11, suite_model.counts_per_g)


@pytest.fixture(scope="module")
def clean(pipeline_device, suite_model, windows):
    """The same windows on a device nobody disturbs: what every recovered run must equal."""
    pipeline = deployed_pipeline(suite_model, SuiteConfig())
    pipeline.deploy(pipeline_device.client)
    return pipeline.infer_windows(windows.counts)


def _recovering(device, suite_model, **kwargs):
    pipeline = deployed_pipeline(suite_model, SuiteConfig())
    info = pipeline.deploy(device.client)
    return DeviceRecovery(device, pipeline, **kwargs), info


def _assert_equal_where_measured(run, clean, faulted=()):
    expected = np.zeros(len(clean), dtype=bool)
    expected[list(faulted)] = True
    assert run.faulted.tolist() == expected.tolist()
    keep = ~expected
    assert np.array_equal(run.result.outputs[keep], clean.outputs[keep])
    assert np.array_equal(run.result.input_codes[keep], clean.input_codes[keep])
    assert np.array_equal(run.result.cost[keep], clean.cost[keep])   # exact instruction counts, too


@pytest.mark.parametrize(("mode", "kind"), [(FaultMode.HANG, HANG), (FaultMode.CRASH, HARDFAULT)])
def test_a_fault_mid_stream_is_reset_and_the_window_retried(fresh_pipeline_device, suite_model, windows, clean,
                                                            mode, kind):
    recovery, info = _recovering(fresh_pipeline_device, suite_model)
    run = infer_windows_recovering(recovery, windows.counts, model=info, timeout_s=TIMEOUT_S,
                                   inject=FaultInjection(mode, 4))
    _assert_equal_where_measured(run, clean)
    assert [(e.window, e.kind, e.recovered) for e in run.events] == [(4, kind, True)]
    assert run.device_faults == [] and fresh_pipeline_device.target.resets == 1 and recovery.resets == 1
    assert 0 < run.events[0].reset_s < 10
    if mode == FaultMode.HANG:
        assert "no reply to INFER_WINDOW" in run.events[0].error
    else:
        assert "HardFault" in run.events[0].error and "cfsr=0x00010000" in run.events[0].error  # UNDEFINSTR
    assert len(live_pids()) >= 1 and fresh_pipeline_device.target.pid in live_pids()


def test_a_window_that_fails_twice_is_a_device_fault_and_the_stream_goes_on(fresh_pipeline_device, suite_model,
                                                                          windows, clean):
    recovery, info = _recovering(fresh_pipeline_device, suite_model)
    old_pid = fresh_pipeline_device.target.pid
    run = infer_windows_recovering(recovery, windows.counts, model=info, timeout_s=TIMEOUT_S,
                                   inject=FaultInjection(FaultMode.HANG, 6, persistent=True))
    _assert_equal_where_measured(run, clean, faulted=[6])
    event, = run.events
    assert (event.window, event.kind, event.recovered) == (6, HANG, False)
    assert "no reply" in event.retry_error and run.device_faults == [event]
    assert fresh_pipeline_device.target.resets == 2          # once before the retry, once after it
    assert old_pid not in live_pids()                         # the hung emulator was stopped, not leaked


def test_the_device_is_given_up_after_consecutive_faults_and_nothing_measured_is_lost(
        fresh_pipeline_device, suite_model, windows, clean):
    recovery, info = _recovering(fresh_pipeline_device, suite_model, max_consecutive_faults=1)
    with pytest.raises(DeviceLostError) as excinfo:
        infer_windows_recovering(recovery, windows.counts, model=info, timeout_s=TIMEOUT_S,
                                 inject=FaultInjection(FaultMode.CRASH, 3, persistent=True))
    lost = excinfo.value
    assert isinstance(lost, StreamError) and lost.failed_index == 3
    assert "windows in a row (3..3) failed" in str(lost)
    partial = lost.run
    assert lost.results is partial.result
    assert len(partial.faulted) == 4 and partial.faulted.tolist() == [False, False, False, True]
    assert np.array_equal(partial.result.outputs[:3], clean.outputs[:3])
    assert [(e.window, e.kind, e.recovered) for e in partial.events] == [(3, HARDFAULT, False)]


def test_a_reset_that_fails_aborts_with_the_windows_measured(fresh_pipeline_device, suite_model, windows, clean,
                                                            monkeypatch):
    recovery, info = _recovering(fresh_pipeline_device, suite_model)
    target = fresh_pipeline_device.target

    def probe_gone(timeout_s=None):
        raise ProbeNotFoundError("probe lost while resetting", board="bench-3", probe_uid="0669FF", port="/dev/ttyACM0")
    monkeypatch.setattr(target, "reset_device", probe_gone)
    with pytest.raises(DeviceLostError) as excinfo:
        infer_windows_recovering(recovery, windows.counts, model=info, timeout_s=TIMEOUT_S,
                                 inject=FaultInjection(FaultMode.HANG, 5))
    message = str(excinfo.value)
    assert "stopped answering at window 5" in message and "probe 0669FF" in message and "5 windows measured" in message
    assert isinstance(excinfo.value.__cause__, ProbeNotFoundError)
    partial = excinfo.value.run
    assert len(partial.faulted) == 5 and not partial.faulted.any()
    assert np.array_equal(partial.result.outputs, clean.outputs[:5])


def test_a_refused_window_is_not_a_device_fault(fresh_pipeline_device, suite_model, windows):
    """An ERROR reply (here: 2 axes for a 3-axis model) means the device is well and said no: no
    reset, no retry; the windows before it are kept."""
    recovery, info = _recovering(fresh_pipeline_device, suite_model)
    with pytest.raises(StreamError) as excinfo:
        infer_windows_recovering(recovery, windows.counts[:, :, :2], model=info, timeout_s=TIMEOUT_S)
    assert not isinstance(excinfo.value, DeviceLostError)
    assert excinfo.value.failed_index == 0 and "SHAPE_MISMATCH" in str(excinfo.value)
    assert fresh_pipeline_device.target.resets == 0 and recovery.resets == 0


def test_pyocd_resets_a_hung_board_through_the_probe(pipeline_image, suite_model, windows, clean):
    """The same recovery on the pyOCD backend: pyOCD's own reset (over QEMU's gdbstub) ends the hang;
    the emulator process is not restarted."""
    with running_device("pyocd", pipeline_image, probe="qemu") as device:
        pid = device.target._emulator.pid
        recovery, info = _recovering(device, suite_model)
        run = infer_windows_recovering(recovery, windows.counts, model=info, timeout_s=TIMEOUT_S,
                                       inject=FaultInjection(FaultMode.HANG, 2))
        _assert_equal_where_measured(run, clean)
        assert [(e.window, e.recovered) for e in run.events] == [(2, True)]
        assert device.target.resets == 1 and device.target._emulator.pid == pid
