"""The acceptance suite (harness/suite/acceptance) in the repo's test command, with the plugin's
CI defaults (harness.suite.config: 32 windows per scenario, 2 per sweep amplitude)."""

from harness.suite.acceptance.test_acceptance import *  # noqa: F401,F403
