"""The pipeline firmware (ENGINE=portable, APP=pipeline) in real QEMU, as fixtures for the folders
that talk to it: tests/device/conftest.py imports them, tests/layers/conftest.py too (its device as
``layers_device``: each folder boots its own, so one folder's uploads never meet the other's)."""

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
    """A device of its own, for a test that leaves it in a state the next must not see."""
    with running_device("qemu", pipeline_image) as device:
        yield device
