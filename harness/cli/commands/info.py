"""hil info: boot the firmware on a target and print what INFO returns, one field per line."""

from __future__ import annotations

import argparse
from contextlib import contextmanager


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every command that talks to a device shares (hil echo imports this)."""
    parser.add_argument("--target", default="qemu", help="target backend (default: %(default)s)")
    parser.add_argument("--board", default="netduinoplus2", help="firmware board folder (default: %(default)s)")
    parser.add_argument("--engine", default="none", help="inference engine of the build (default: %(default)s)")
    parser.add_argument("--elf", default=None, help="run this ELF instead of building")
    parser.add_argument("--boot-timeout", type=float, default=10.0, metavar="S",
                        help="seconds to wait for the device's BOOT frame (default: %(default)s)")


@contextmanager
def open_device(args: argparse.Namespace):
    """Build (or reuse) the firmware, start the target, connect; stop it all on exit."""
    from harness.targets import running_device
    if args.elf:
        image = args.elf
    else:
        from harness.firmware.build import build_firmware
        image = build_firmware(board=args.board, engine=args.engine)
    with running_device(args.target, image, board=args.board, boot_timeout_s=args.boot_timeout) as device:
        yield device


def register(subparsers) -> None:
    parser = subparsers.add_parser("info", help="boot the firmware and print its INFO fields")
    add_device_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_device(args) as device:
        info = device.client.info()
    for name, value in info.as_dict().items():
        print(f"{name}: {value}")
    return 0
