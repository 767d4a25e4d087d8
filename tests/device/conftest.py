"""Device pipeline tests: the real firmware (ENGINE=portable, APP=pipeline) in real QEMU."""

from __future__ import annotations

import pytest

from harness.firmware.build import build_firmware
from harness.targets import running_device


@pytest.fixture(scope="session")
def pipeline_image():
    return build_firmware(engine="portable")


@pytest.fixture(scope="session")
def pipeline_device(pipeline_image):
    with running_device("qemu", pipeline_image) as device:
        yield device


@pytest.fixture
def fresh_pipeline_device(pipeline_image):
    with running_device("qemu", pipeline_image) as device:
        yield device
