"""The target registry: discovery by module, clear errors for unknown names and options."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError, ToolMissingError
from harness.targets import available_targets, create_target, register_target, target_class
from harness.targets.base import Target
from harness.targets.qemu import QemuTarget


def test_qemu_is_discovered():
    assert "qemu" in available_targets()
    assert target_class("qemu") is QemuTarget
    assert QemuTarget.name == "qemu"


def test_unknown_target_lists_known_ones():
    with pytest.raises(ConfigError) as excinfo:
        create_target("renodee")
    message = str(excinfo.value)
    assert "unknown target 'renodee'" in message
    for name in available_targets():
        assert name in message


def test_unknown_option_lists_accepted_ones():
    with pytest.raises(ConfigError, match="has no option speed.*icount"):
        create_target("qemu", speed=3)


def test_unknown_board_is_a_config_error():
    with pytest.raises(ConfigError, match="no machine for board 'nucleo-f446re'"):
        create_target("qemu", board="nucleo-f446re")


def test_registering_a_second_class_under_a_taken_name_fails():
    class Impostor(QemuTarget):
        pass

    with pytest.raises(ConfigError, match="registered twice"):
        register_target("qemu")(Impostor)
    assert target_class("qemu") is QemuTarget


def test_missing_qemu_is_tool_missing_naming_the_package(idle_elf):
    target = create_target("qemu", qemu="qemu-system-arm-not-installed")
    with pytest.raises(ToolMissingError) as excinfo:
        target.start(idle_elf)
    assert excinfo.value.package == "qemu-system-arm"
    assert "apt-get install qemu-system-arm" in str(excinfo.value)
    assert not target.is_running


def test_missing_image_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        create_target("qemu").start(tmp_path / "nope.elf")


def test_image_board_must_match_target_board(idle_elf):
    class Image:
        elf = idle_elf
        board = "mps2-an386"

    with pytest.raises(ConfigError, match="built for board 'mps2-an386'"):
        create_target("qemu", board="netduinoplus2").start(Image())


def test_target_is_abstract():
    with pytest.raises(TypeError):
        Target()  # type: ignore[abstract]


@pytest.mark.parametrize("name", ["qemu", "renode"])
def test_reset_before_start_is_a_target_error(name):
    """Nothing was started, so nothing can be reset: the harness's error, not an AttributeError."""
    from harness.errors import TargetError
    target = create_target(name)
    with pytest.raises(TargetError, match="not started; nothing to reset|not running"):
        target.reset_device()
    assert target.resets == 0
