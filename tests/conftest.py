"""What every test folder needs before its own conftest.

pytester's in-process runs (tests/cli/test_plugin.py, tests/suite/test_plugin_suite.py,
tests/firmware/test_container_app_suite.py) restore ``sys.modules`` afterwards, dropping what
the inner run imported. tflite_micro's pybind11 extension cannot be imported a second time in
one process ("generic_type: type ... is already registered"), so a later test that needs the
reference would fail, depending on which files a pytest-xdist worker ran first. Importing it
once here puts it in every snapshot.
"""

import importlib.util

if importlib.util.find_spec("tflite_micro") is not None:
    from tflite_micro import runtime  # noqa: F401
