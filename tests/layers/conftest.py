"""Layer tests: the real firmware (ENGINE=portable, APP=pipeline) in real QEMU, one per session."""

from __future__ import annotations

# the device fixture asks for pipeline_image; the tests here name the image layers_image
from tests.support.pipeline_fixtures import pipeline_device as layers_device  # noqa: F401
from tests.support.pipeline_fixtures import pipeline_image  # noqa: F401
from tests.support.pipeline_fixtures import pipeline_image as layers_image  # noqa: F401
