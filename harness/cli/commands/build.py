"""hil build: build the firmware for a board and engine; print the ELF path and its size."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("build", help="build the firmware (reuses an up-to-date build)")
    parser.add_argument("--board", default="netduinoplus2", help="firmware board folder (default: %(default)s)")
    parser.add_argument("--engine", default="portable",
                        help="inference engine: none (link only), portable, tflm (default: %(default)s)")
    parser.add_argument("--tflm-dir", default=None, metavar="DIR",
                        help="TFLite Micro tree (with its built library) for --engine tflm; "
                             "see firmware/src/engine/README.md")
    parser.add_argument("--build-dir", default=None, help="build folder (default: the build driver's)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel make jobs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError
    from harness.firmware.build import build_firmware

    make_vars = {}
    if args.engine == "tflm":
        if not args.tflm_dir:
            raise ConfigError("--engine tflm needs --tflm-dir DIR, a TFLite Micro tree with its built "
                              "library (see firmware/src/engine/README.md)")
        make_vars["TFLM_DIR"] = args.tflm_dir
    elif args.tflm_dir:
        raise ConfigError(f"--tflm-dir applies to --engine tflm only, not '{args.engine}'")
    image = build_firmware(board=args.board, engine=args.engine, build_dir=args.build_dir, jobs=args.jobs,
                           extra_make_vars=make_vars)
    print(f"elf: {image.elf}")
    print(f"flash_bytes: {image.flash_bytes}")
    print(f"ram_bytes: {image.ram_bytes}")
    print(f"board: {image.board}")
    print(f"engine: {image.engine}")
    print(f"build_id: {image.build_id}")
    return 0
