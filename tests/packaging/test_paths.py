"""harness.paths: the checkout layout, and the cache folder's precedence."""

from __future__ import annotations

from pathlib import Path

from harness import paths

REPO = Path(__file__).resolve().parents[2]


def test_a_checkout_uses_its_own_folders():
    assert paths.CHECKOUT_DIR == REPO
    assert paths.FIRMWARE_DIR == REPO / "firmware"
    assert paths.MODELS_DIR == REPO / "fixtures" / "models"
    assert paths.FIELD_DIR == REPO / "fixtures" / "field"
    assert paths.build_root({}) == REPO / "build"


def test_cache_folder_precedence(tmp_path):
    home = Path.home()
    assert paths.cache_dir({}) == (home / ".cache" / "tinyml-hil").resolve()
    assert paths.cache_dir({"XDG_CACHE_HOME": str(tmp_path / "xdg")}) == tmp_path / "xdg" / "tinyml-hil"
    chosen = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HIL_CACHE_DIR": str(tmp_path / "hil")}
    assert paths.cache_dir(chosen) == tmp_path / "hil"
    # set explicitly, HIL_CACHE_DIR wins in a checkout too
    assert paths.build_root(chosen) == tmp_path / "hil"
