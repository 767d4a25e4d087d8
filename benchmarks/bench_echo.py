#!/usr/bin/env python3
"""ECHO throughput over QEMU in both directions, against a raw loopback socket echo, same run.

    .venv/bin/python benchmarks/bench_echo.py [--bytes 262144] [--sizes 16,128,512] [--no-icount] [--elf ELF]

Not a timed test: it prints figures. For each payload size, each side runs the same protocol
frames (encode_frame) through:
  qemu   the firmware in qemu-system-arm over socket:// (the harness's own DeviceClient)
  raw    a Python TCP echo server on 127.0.0.1 with TCP_NODELAY that reads a whole frame up to
         its delimiter and writes it back (store-and-forward, like the firmware)
Per direction, as hil echo does: host->device = payload bytes / (request written -> first reply
byte); device->host = payload bytes / (first reply byte -> reply complete). ratio = qemu / raw.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import threading
import time

from harness.link.frame import Frame, FrameReader, encode_frame
from harness.link.protocol import MsgType
from harness.targets import running_device


class RawEchoServer:
    """Loopback TCP echo of whole 0x00-delimited frames, TCP_NODELAY on both ends."""

    def __init__(self):
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.close()
        self._thread.join(timeout=5)

    def _serve(self):
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pending = bytearray()
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                pending += data
                while b"\x00" in pending:
                    end = pending.index(b"\x00") + 1
                    conn.sendall(bytes(pending[:end]))
                    del pending[:end]


def raw_exchange(sock: socket.socket, reader: FrameReader, wire: bytes) -> tuple[float, float, float]:
    written = time.monotonic()
    sock.sendall(wire)
    first = None
    while True:
        data = sock.recv(65536)
        if first is None:
            first = time.monotonic()
        if not data:
            raise ConnectionError("raw echo server closed")
        if reader.feed(data):
            return written, first, time.monotonic()


def measure(exchange, payloads) -> dict[str, float]:
    to_first = reply = 0.0
    total_bytes = sum(len(p) for p in payloads)
    start = time.monotonic()
    for payload in payloads:
        written, first, done = exchange(payload)
        to_first += first - written
        reply += done - first
    elapsed = time.monotonic() - start
    return {"round_trip": total_bytes / elapsed / 1000, "host_to_device": total_bytes / to_first / 1000,
            "device_to_host": total_bytes / reply / 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bytes", type=int, default=256 * 1024, help="payload bytes per size and side")
    parser.add_argument("--sizes", default="16,128,max", help="payload sizes per request ('max' = device max)")
    parser.add_argument("--elf", help="firmware ELF (default: hil build's)")
    parser.add_argument("--no-icount", action="store_true", help="run QEMU without -icount shift=0")
    args = parser.parse_args()
    if args.elf:
        image = args.elf
    else:
        from harness.firmware.build import build_firmware
        image = build_firmware()
    rng = random.Random(1)
    boot_start = time.monotonic()
    with running_device("qemu", image, icount=not args.no_icount) as device, RawEchoServer() as raw:
        boot_s = time.monotonic() - boot_start
        client = device.client
        max_payload = device.boot_info.max_payload
        sizes = [max_payload if s == "max" else int(s) for s in args.sizes.split(",")]
        sock = socket.create_connection(("127.0.0.1", raw.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw_reader = FrameReader(0xFFFF)
        seq = [0]

        def qemu_exchange(payload):
            assert client.echo(payload, timeout_s=10) == payload
            e = client.last_exchange
            return e.written_s, e.first_byte_s, e.done_s

        def raw_rx(payload):
            seq[0] = (seq[0] + 1) % 0xFFFF
            return raw_exchange(sock, raw_reader, encode_frame(Frame(MsgType.ECHO, seq[0], payload)))

        empty = []
        for _ in range(50):
            client.echo(b"", timeout_s=5)
            empty.append(client.last_exchange.total_s)
        print(f"qemu: icount={'off' if args.no_icount else 'shift=0'}, boot to BOOT frame {boot_s * 1000:.0f} ms, "
              f"empty ECHO round trip median {statistics.median(empty) * 1000:.2f} ms, "
              f"max payload {max_payload}")
        print(f"{'size':>6} {'side':>5} {'round trip':>11} {'host->dev':>10} {'dev->host':>10}   kB/s")
        for size in sizes:
            payloads = [rng.randbytes(size) for _ in range(max(1, args.bytes // size))]
            q = measure(qemu_exchange, payloads)
            r = measure(raw_rx, payloads)
            for side, m in (("qemu", q), ("raw", r)):
                print(f"{size:>6} {side:>5} {m['round_trip']:>11.1f} {m['host_to_device']:>10.1f} "
                      f"{m['device_to_host']:>10.1f}")
            print(f"{size:>6} {'ratio':>5} {q['round_trip'] / r['round_trip']:>11.4f} "
                  f"{q['host_to_device'] / r['host_to_device']:>10.4f} "
                  f"{q['device_to_host'] / r['device_to_host']:>10.4f}")
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
