"""Options and set-up shared by every ``hil`` command that talks to a device.

``--target`` picks a registered backend; ``--board`` is the firmware board folder, or for
inventory targets (pyocd) the boards.toml entry: ``harness.boards.selection.target_setup``
resolves both the same way the pytest plugin does.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager


def add_device_arguments(parser: argparse.ArgumentParser, engine: str = "portable") -> None:
    parser.add_argument("--target", default="qemu", help="target backend (default: %(default)s)")
    parser.add_argument("--board", default="netduinoplus2",
                        help="firmware board folder; with --target pyocd, boards.toml entry name(s) "
                             "(default: %(default)s)")
    parser.add_argument("--inventory", default=None, metavar="PATH",
                        help="board inventory for --target pyocd (default: $HIL_INVENTORY or ./boards.toml)")
    parser.add_argument("--engine", default=engine,
                        help="inference engine of the firmware: none, portable, tflm (default: %(default)s)")
    parser.add_argument("--elf", default=None, help="run this ELF instead of building")
    parser.add_argument("--boot-timeout", type=float, default=10.0, metavar="S",
                        help="seconds to wait for the device's BOOT frame (default: %(default)s)")


def build_for(args: argparse.Namespace):
    """(TargetSetup, firmware image or ELF path) for the parsed device options."""
    from harness.boards.selection import target_setup
    setup = target_setup(args.target, args.board, inventory=args.inventory)
    if args.elf:
        return setup, args.elf
    from harness.firmware.build import build_firmware
    return setup, build_firmware(board=setup.firmware_board, engine=args.engine)


@contextmanager
def open_device(args: argparse.Namespace):
    """Build (or reuse) the firmware, start the target, connect; stop it all on exit."""
    from harness.targets import running_device
    setup, image = build_for(args)
    with running_device(setup.target, image, boot_timeout_s=args.boot_timeout, **setup.options) as device:
        yield device
