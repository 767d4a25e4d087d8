"""hil build: prints what the build driver made; refuses a tflm build without a TFLM tree."""

from __future__ import annotations

from harness.cli.main import main
from harness.firmware.build import build_firmware


def _fields(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.strip().splitlines())


def test_build_prints_the_images_sizes(capsys):
    assert main(["build", "--engine", "none"]) == 0
    fields = _fields(capsys.readouterr().out)
    image = build_firmware(engine="none")
    assert fields["elf"] == str(image.elf)
    assert int(fields["flash_bytes"]) == image.flash_bytes > 1000
    assert int(fields["ram_bytes"]) == image.ram_bytes
    assert fields["engine"] == "none" and fields["board"] == "netduinoplus2"


def test_tflm_without_a_tree_is_refused(capsys, monkeypatch):
    monkeypatch.delenv("HIL_TFLM_DIR", raising=False)  # the tree's defaults
    monkeypatch.delenv("TFLM_DIR", raising=False)
    assert main(["build", "--engine", "tflm"]) == 2
    assert "--engine tflm needs --tflm-dir DIR (or HIL_TFLM_DIR or TFLM_DIR in the environment)" in \
        capsys.readouterr().err


def test_tflm_dir_with_another_engine_is_refused(capsys, tmp_path):
    assert main(["build", "--engine", "portable", "--tflm-dir", str(tmp_path)]) == 2
    assert "--tflm-dir applies to --engine tflm only" in capsys.readouterr().err
