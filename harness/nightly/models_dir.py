"""Run the suite on another models folder than fixtures/models (``hil run --models-dir``).

The suite resolves model names with ``harness.suite.models.load_suite_model`` and
``available_models``, whose ``models_dir`` parameter defaults to fixtures/models. ``hil run``
runs the suite in-process (pytest.main), so for the run's duration those defaults are pointed at
the given folder and restored afterwards. Nightly uses it to run a candidate set of models under
the committed names.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from harness.errors import ConfigError


@contextmanager
def use_models_dir(path: str | Path | None):
    if path is None:
        yield None
        return
    from harness.suite import models
    folder = Path(path).resolve()
    if not folder.is_dir() or not any(folder.glob("*.json")):
        raise ConfigError(f"models folder {folder} does not exist or holds no <name>.json")
    saved = (models.load_suite_model.__defaults__, models.available_models.__defaults__)
    models.load_suite_model.__defaults__ = (folder,)
    models.available_models.__defaults__ = (folder,)
    try:
        yield folder
    finally:
        models.load_suite_model.__defaults__, models.available_models.__defaults__ = saved
