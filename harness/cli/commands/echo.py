"""hil echo: round-trip N random bytes through ECHO, check every byte, print throughput.

Output (kB = 1000 bytes, payload bytes only, framing not counted):
  round_trip_kBps    bytes / wall time of all requests (each byte travels both ways, in series)
  host_to_device_kBps  bytes / sum of (request written -> first reply byte): the request's transfer
                     through the emulated UART plus the device's turnaround (per-request latency included)
  device_to_host_kBps  bytes / sum of (first reply byte -> reply complete): the reply's transfer
  empty_rtt_ms       median round trip of an empty ECHO: the fixed cost each request adds
The device receives a whole frame before it replies, so the two phases do not overlap.
"""

from __future__ import annotations

import argparse

from harness.cli.device import add_device_arguments, open_device

EMPTY_SAMPLES = 20


def register(subparsers) -> None:
    parser = subparsers.add_parser("echo", help="round-trip random bytes through ECHO and print throughput",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_arguments(parser)
    parser.add_argument("--bytes", type=int, required=True, dest="total_bytes", help="payload bytes to round-trip")
    parser.add_argument("--chunk", type=int, default=None,
                        help="payload bytes per request (default: the device's max payload)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per request")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import random
    import statistics
    import time

    from harness.errors import ConfigError, ProtocolError

    if args.total_bytes < 0:
        raise ConfigError("--bytes must be >= 0")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    with open_device(args) as device:
        client = device.client
        max_payload = device.boot_info.max_payload
        chunk = args.chunk or max_payload
        if not 1 <= chunk <= max_payload:
            raise ConfigError(f"--chunk {chunk} outside 1..{max_payload} (the device's max payload)")
        empty_rtt = []
        for _ in range(EMPTY_SAMPLES):
            client.echo(b"", args.timeout)
            empty_rtt.append(client.last_exchange.total_s)
        sent = requests = 0
        to_first_s = reply_s = 0.0
        start = time.monotonic()
        while sent < args.total_bytes:
            payload = rng.randbytes(min(chunk, args.total_bytes - sent))
            echoed = client.echo(payload, args.timeout)
            if echoed != payload:
                first_bad = next((i for i, (a, b) in enumerate(zip(payload, echoed)) if a != b),
                                 min(len(payload), len(echoed)))
                raise ProtocolError(f"ECHO corrupted data at byte {sent + first_bad} of the stream (seed {seed}): "
                                    f"sent {len(payload)} bytes, got {len(echoed)}")
            exchange = client.last_exchange
            to_first_s += exchange.to_first_byte_s
            reply_s += exchange.reply_transfer_s
            sent += len(payload)
            requests += 1
        elapsed_s = time.monotonic() - start

    def rate(seconds: float) -> str:
        return f"{sent / seconds / 1000:.1f}" if seconds > 0 and sent else "n/a"

    print(f"bytes: {sent}")
    print(f"requests: {requests}")
    print(f"chunk: {chunk}")
    print(f"seed: {seed}")
    print("verified: every byte")
    print(f"elapsed_s: {elapsed_s:.3f}")
    print(f"round_trip_kBps: {rate(elapsed_s)}")
    print(f"host_to_device_kBps: {rate(to_first_s)}")
    print(f"device_to_host_kBps: {rate(reply_s)}")
    print(f"empty_rtt_ms: {statistics.median(empty_rtt) * 1000:.2f}")
    return 0
