"""Options and set-up shared by every ``hil`` command that talks to a device.

``--target`` picks a registered backend; ``--board`` is the firmware board folder and
``--inventory-board`` names boards.toml entries for inventory targets (pyocd):
``harness.boards.selection.target_setup`` resolves them the same way the pytest plugin does.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager


def add_device_arguments(parser: argparse.ArgumentParser, engine: str = "portable") -> None:
    parser.add_argument("--target", default="qemu", help="target backend (default: %(default)s)")
    add_board_arguments(parser)
    parser.add_argument("--engine", default=engine,
                        help="inference engine of the firmware: none, portable, tflm (default: %(default)s)")
    add_tflm_dir_argument(parser)
    parser.add_argument("--elf", default=None, help="run this ELF instead of building")
    parser.add_argument("--boot-timeout", type=float, default=10.0, metavar="S",
                        help="seconds to wait for the device's BOOT frame (default: %(default)s)")


def add_board_arguments(parser: argparse.ArgumentParser) -> None:
    """``--board`` (the firmware board), ``--inventory-board`` and ``--inventory``: every command
    that runs a target takes these three, with one meaning each."""
    from harness.boards.selection import DEFAULT_FIRMWARE_BOARD
    parser.add_argument("--board", default=None, metavar="FOLDER",
                        help=f"firmware board folder of firmware/boards/ (default: {DEFAULT_FIRMWARE_BOARD}; "
                             f"with --target pyocd, the inventory boards' firmware_board)")
    parser.add_argument("--inventory-board", default=None, metavar="NAME[,NAME...]",
                        help="with --target pyocd: the boards.toml entry, or several (any free one), or '*' "
                             "(default: any entry whose firmware_board is --board)")
    parser.add_argument("--inventory", default=None, metavar="PATH",
                        help="board inventory for --target pyocd (default: $HIL_INVENTORY or ./boards.toml)")


def add_tflm_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--tflm-dir``: the TFLite Micro tree an ``--engine tflm`` firmware is built against;
    every command that builds one takes it (:func:`harness.firmware.build.engine_make_vars` reads it)."""
    parser.add_argument("--tflm-dir", default=None, metavar="DIR",
                        help="TFLite Micro tree (with its built library) for --engine tflm (default: $HIL_TFLM_DIR, "
                             "else $TFLM_DIR); see firmware/src/engine/README.md")


def build_for(args: argparse.Namespace):
    """(TargetSetup, firmware image or ELF path) for the parsed device options."""
    from harness.boards.selection import target_setup
    setup = target_setup(args.target, args.board, inventory_board=args.inventory_board,
                         inventory=args.inventory)
    if args.elf:
        return setup, args.elf
    from harness.firmware.build import build_firmware, engine_make_vars
    return setup, build_firmware(board=setup.firmware_board, engine=args.engine,
                                 extra_make_vars=engine_make_vars(args.engine, args.tflm_dir))


@contextmanager
def open_device(args: argparse.Namespace):
    """Build (or reuse) the firmware, start the target, connect; stop it all on exit."""
    from harness.targets import running_device
    setup, image = build_for(args)
    with running_device(setup.target, image, boot_timeout_s=args.boot_timeout, **setup.options) as device:
        yield device
