"""The acceptance suite's test module, shipped in the package so ``hil run`` can run it with
pytest.main; tests/suite/test_acceptance.py collects the same tests in the repo's test command."""

from pathlib import Path

MODULE = Path(__file__).with_name("test_acceptance.py")
