"""hil build: build the firmware for a board and engine; print the ELF path and its size."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from harness.cli.device import add_tflm_dir_argument
    parser = subparsers.add_parser("build", help="build the firmware (reuses an up-to-date build)")
    parser.add_argument("--board", default="netduinoplus2", help="firmware board folder (default: %(default)s)")
    parser.add_argument("--engine", default="portable",
                        help="inference engine: none (link only), portable, tflm (default: %(default)s)")
    add_tflm_dir_argument(parser)
    parser.add_argument("--build-dir", default=None, help="build folder (default: the build driver's)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel make jobs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.firmware.build import engine_make_vars
    from harness.firmware.build import build_firmware

    image = build_firmware(board=args.board, engine=args.engine, build_dir=args.build_dir, jobs=args.jobs,
                           extra_make_vars=engine_make_vars(args.engine, args.tflm_dir))
    print(f"elf: {image.elf}")
    print(f"flash_bytes: {image.flash_bytes}")
    print(f"ram_bytes: {image.ram_bytes}")
    print(f"board: {image.board}")
    print(f"engine: {image.engine}")
    print(f"build_id: {image.build_id}")
    return 0
