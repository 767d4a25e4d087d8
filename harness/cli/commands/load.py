"""hil load: upload a .tflite to the device in CRC-checked chunks, load it into the arena and
print what the device reports (CRC, arena use, input and output tensors)."""

from __future__ import annotations

import argparse

from harness.cli.device import add_device_arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser("load", help="upload a model to the device and print its description",
                                   description=__doc__)
    add_device_arguments(parser)
    parser.add_argument("--model", required=True, help=".tflite file to upload")
    parser.add_argument("--chunk", type=int, default=None, help="bytes per LOAD_CHUNK (default: the most a frame holds)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per request")
    parser.set_defaults(func=run)


def read_model(path: str) -> bytes:
    from pathlib import Path

    from harness.errors import ConfigError
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read model {path}: {e.strerror}") from e


def print_model(model, out=print) -> None:
    out(f"model_crc32: {model.crc32:08x}")
    out(f"model_bytes: {model.size}")
    out(f"model_source: {model.source}")
    out(f"arena_used: {model.arena_used} of {model.arena_size}")
    for role, tensor in (("input", model.input), ("output", model.output)):
        out(f"{role}: {tensor.dtype} {list(tensor.shape)} scale {tensor.scale:.9g} zero_point {tensor.zero_point}")


def run(args: argparse.Namespace) -> int:
    import time

    from harness.cli.device import open_device
    from harness.device import load_model

    model_bytes = read_model(args.model)
    with open_device(args) as device:
        started = time.monotonic()
        model = load_model(device.client, model_bytes, chunk_size=args.chunk, timeout_s=args.timeout)
        elapsed_s = time.monotonic() - started
    print_model(model)
    print(f"upload_s: {elapsed_s:.3f}")
    return 0
