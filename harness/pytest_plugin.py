"""pytest plugin (``pytest11`` entry point ``hil``): options, a device marker and fixtures.

Thin by design: every fixture is one library call (harness.firmware.build, harness.targets).

    pytest --hil-target qemu --hil-board netduinoplus2
    pytest --hil-target pyocd --hil-board nucleo-1 [--hil-inventory boards.toml]
    pytest --hil-target pyocd --hil-board "nucleo-1,nucleo-2" -n 2   # one board per xdist worker
    [tool.pytest.ini_options] hil_target = "qemu"

With ``--hil-target pyocd``, ``--hil-board`` names inventory entries (harness.boards), and the
firmware board folder comes from the entry (docs/real-boards.md).

Fixtures
  hil_firmware      session: the built (or reused, up-to-date) FirmwareImage
  hil_device        session: a RunningDevice (.target, .client, .boot_info), stopped at teardown
  hil_fresh_device  function: a RunningDevice of its own, for tests that break the device
Tests using a device fixture are marked ``hil_device`` automatically (deselect with -m "not hil_device").
"""

from __future__ import annotations

import pytest

OPTIONS = {
    # name: (default, help)
    "target": ("qemu", "target backend that runs the firmware (see harness.targets.available_targets())"),
    "board": ("netduinoplus2", "firmware board folder to build and run; with --hil-target pyocd: "
              "inventory board name(s), e.g. nucleo-1 or \"nucleo-1,nucleo-2\""),
    "engine": ("none", "inference engine compiled into the firmware: none, portable or tflm"),
    "inventory": ("", "board inventory for --hil-target pyocd (default: $HIL_INVENTORY or ./boards.toml)"),
    "lock_timeout": ("60", "seconds to wait for a free inventory board before failing (pyocd target)"),
}
DEVICE_FIXTURES = ("hil_device", "hil_fresh_device")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop harness")
    for name, (default, help_text) in OPTIONS.items():
        group.addoption(f"--hil-{name.replace('_', '-')}", dest=f"hil_{name}", default=None,
                        help=f"{help_text} (default: ini hil_{name} or '{default}')")
        parser.addini(f"hil_{name}", help=help_text, default=default)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hil_device: needs a device (a started target running the firmware)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in DEVICE_FIXTURES):
            item.add_marker(pytest.mark.hil_device)


def hil_option(config: pytest.Config, name: str) -> str:
    """Command line first, then ini, then the default."""
    return config.getoption(f"hil_{name}") or config.getini(f"hil_{name}")


def hil_target_setup(config: pytest.Config) -> tuple[str, str, dict]:
    """(target backend, firmware board folder, target options): harness.boards.selection."""
    from harness.boards.selection import target_setup
    from harness.errors import ConfigError
    try:
        setup = target_setup(hil_option(config, "target"), hil_option(config, "board"),
                             inventory=hil_option(config, "inventory") or None,
                             lock_timeout_s=float(hil_option(config, "lock_timeout")),
                             search_dir=config.rootpath)
    except ConfigError as e:
        raise pytest.UsageError(str(e)) from e
    return setup.target, setup.firmware_board, setup.options


@pytest.fixture(scope="session")
def hil_firmware(pytestconfig: pytest.Config):
    from harness.firmware.build import build_firmware
    _, firmware_board, _ = hil_target_setup(pytestconfig)
    return build_firmware(board=firmware_board, engine=hil_option(pytestconfig, "engine"))


@pytest.fixture(scope="session")
def hil_device(pytestconfig: pytest.Config, hil_firmware):
    from harness.targets import running_device
    target, _, options = hil_target_setup(pytestconfig)
    with running_device(target, hil_firmware, **options) as device:
        yield device


@pytest.fixture
def hil_fresh_device(pytestconfig: pytest.Config, hil_firmware):
    from harness.targets import running_device
    target, _, options = hil_target_setup(pytestconfig)
    with running_device(target, hil_firmware, **options) as device:
        yield device


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every target a fixture started is stopped by now; a live child process is a harness bug."""
    from harness.targets.base import live_pids, terminate_all
    leftover = live_pids()
    if leftover:
        terminate_all()
        session.config.get_terminal_writer().line(
            f"hil: target processes {leftover} were still running at session end (now stopped)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
