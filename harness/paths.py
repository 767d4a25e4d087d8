"""Where the harness finds what it ships (firmware sources, committed fixtures) and where it
writes builds. The one place that knows the two layouts:

- **a checkout** (``pip install -e .``, as ``scripts/setup.sh`` does): ``firmware/`` and
  ``fixtures/`` beside ``harness/``, builds in the checkout's ``build/``;
- **an installed wheel** (a team's own venv): the same folders as package data in
  ``harness/_data/`` (``setup.py`` copies them in), builds in the user's cache folder, never
  beside the installed package: site-packages may be read-only and is shared by every project
  using the venv.

``$HIL_CACHE_DIR``, when set, is where builds go in either layout. Otherwise an installed
harness uses ``$XDG_CACHE_HOME/tinyml-hil``, else ``~/.cache/tinyml-hil``.

Reports are not here: they are relative to the current working directory in both layouts
(``reports/suite``, ``reports/history.parquet``: the CLI's defaults).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CACHE_ENV = "HIL_CACHE_DIR"
CACHE_NAME = "tinyml-hil"

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "_data"


def _checkout_root() -> Path | None:
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "firmware" / "Makefile").is_file():
        return root
    return None


CHECKOUT_DIR: Path | None = _checkout_root()
"""The repository checkout holding this package, or None when the harness is installed."""

SOURCE_ROOT = CHECKOUT_DIR if CHECKOUT_DIR is not None else DATA_DIR
FIRMWARE_DIR = SOURCE_ROOT / "firmware"
FIXTURES_DIR = SOURCE_ROOT / "fixtures"
MODELS_DIR = FIXTURES_DIR / "models"
FIELD_DIR = FIXTURES_DIR / "field"


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """$HIL_CACHE_DIR, else $XDG_CACHE_HOME/tinyml-hil, else ~/.cache/tinyml-hil."""
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV]).expanduser().resolve()
    xdg = environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / CACHE_NAME).resolve()


def build_root(environ: Mapping[str, str] = os.environ) -> Path:
    """Where builds go: $HIL_CACHE_DIR if set, else the checkout's build/, else the cache folder."""
    if CHECKOUT_DIR is not None and not environ.get(CACHE_ENV):
        return CHECKOUT_DIR / "build"
    return cache_dir(environ)
