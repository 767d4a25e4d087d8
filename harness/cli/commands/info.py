"""hil info: boot the firmware on a target and print what INFO returns, one field per line."""

from __future__ import annotations

import argparse

from harness.cli.device import add_device_arguments, open_device


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
