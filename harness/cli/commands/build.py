"""hil build: build the firmware for a board and engine; print the ELF path and its size."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("build", help="build the firmware (reuses an up-to-date build)")
    parser.add_argument("--board", default="netduinoplus2", help="firmware board folder (default: %(default)s)")
    parser.add_argument("--engine", default="none", help="inference engine: none, portable, tflm (default: %(default)s)")
    parser.add_argument("--build-dir", default=None, help="build folder (default: the build driver's)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel make jobs")
    parser.set_defaults(func=run)


def elf_sizes(elf) -> dict[str, int]:
    """Bytes of flash (text + data) and RAM (data + bss) the ELF's sections take."""
    import struct
    data = open(elf, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 1:
        return {}
    endian = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(endian + "I", data, 0x20)
    shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x2E)
    sizes = {"text": 0, "data": 0, "bss": 0}
    for index in range(shnum):
        _name, sh_type, flags, _addr, _off, size = struct.unpack_from(endian + "IIIIII", data, shoff + index * shentsize)
        if not flags & 0x2:  # SHF_ALLOC: only what is loaded counts
            continue
        if sh_type == 8:  # SHT_NOBITS
            sizes["bss"] += size
        elif flags & 0x1:  # SHF_WRITE
            sizes["data"] += size
        else:
            sizes["text"] += size
    return sizes


def run(args: argparse.Namespace) -> int:
    import os

    from harness.firmware.build import build_firmware
    image = build_firmware(board=args.board, engine=args.engine, build_dir=args.build_dir, jobs=args.jobs)
    sizes = elf_sizes(image.elf)
    print(f"elf: {image.elf}")
    print(f"elf_bytes: {os.path.getsize(image.elf)}")
    if sizes:
        print(f"flash_bytes: {sizes['text'] + sizes['data']}")
        print(f"ram_bytes: {sizes['data'] + sizes['bss']}")
    print(f"board: {image.board}")
    print(f"engine: {image.engine}")
    print(f"build_id: {image.build_id}")
    return 0
