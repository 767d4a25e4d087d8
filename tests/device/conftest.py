"""Device pipeline tests: the real firmware (ENGINE=portable, APP=pipeline) in real QEMU."""

from __future__ import annotations

from tests.support.pipeline_fixtures import fresh_pipeline_device, pipeline_device, pipeline_image  # noqa: F401
