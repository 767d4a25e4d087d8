"""Every regression case in fixtures/field/ (saved by `hil replay --shrink`) is a test: the
shrunk segment still makes float and host INT8 disagree as recorded, and the device (the
pipeline firmware on QEMU) still gives the host INT8 output codes for it."""

from __future__ import annotations

import pytest

from harness.replay.cases import case_paths, case_triage, check_case_on_device, check_case_on_host, load_case

CASES = case_paths()


@pytest.fixture(scope="module")
def field_device():
    from harness.firmware.build import build_firmware
    from harness.targets import running_device
    with running_device("qemu", build_firmware(engine="portable")) as device:
        yield device


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_reproduces_on_host(path):
    case = load_case(path)
    assert check_case_on_host(case, case_triage(case)) == []


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_reproduces_on_device(path, field_device):
    case = load_case(path)
    assert check_case_on_device(case, case_triage(case), field_device.client) == []
