"""What this repository's own tests need (the harness's fixtures come from harness.pytest_plugin)."""

from __future__ import annotations

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent

# tests/link/fake_device.py is the protocol fake; CLI unit tests use it too.
sys.path.insert(0, str(ROOT / "tests" / "link"))
# tests/support/: helpers for tests in any folder (children started with known signal dispositions).
sys.path.insert(0, str(ROOT / "tests" / "support"))
# tests/bundle/bundle_cases.py: the activity bundles, for the bundle and suite tests.
sys.path.insert(0, str(ROOT / "tests" / "bundle"))

# pytester runs the harness's pytest plugin in a throwaway project (tests/cli/test_plugin.py).
pytest_plugins = ["pytester"]

# labgrid (the farm extra) installs a pytest plugin that starts a process-wide step logger once;
# the plugin tests run pytest again in this process (pytester), which would start it twice. The
# harness talks to labgrid through its client API, not its plugin: keep the plugin out of the
# pytest runs started from here (the outer run has -p no:labgrid in pyproject.toml's addopts).
os.environ["PYTEST_ADDOPTS"] = (os.environ.get("PYTEST_ADDOPTS", "") + " -p no:labgrid").strip()
