"""Layer tests: the real firmware (ENGINE=portable, APP=pipeline) in real QEMU, one per session."""

from __future__ import annotations

import pytest

from harness.firmware.build import build_firmware
from harness.targets import running_device


@pytest.fixture(scope="session")
def layers_image():
    return build_firmware(engine="portable")


@pytest.fixture(scope="session")
def layers_device(layers_image):
    with running_device("qemu", layers_image) as device:
        yield device
