"""A fake Renode that replays what the real one sent (tests/data/renode/monitor_conversation.json,
recorded by tests/targets/renode_record.py), for tests that run where Renode is not installed.

- :class:`ReplayMonitor`: a TCP server that plays the recording strictly: it sends each recorded
  received chunk and expects each recorded sent chunk byte for byte (a client that differs from
  the harness's recorded behaviour fails the test, naming the first difference).
- ``python renode_fake.py REPO --disable-xwt --plain --port N SCRIPT`` (what
  :func:`install_fake_renode` puts behind a ``renode`` launcher): a monitor that behaves as the
  recorded one does (negotiation, the 9 bytes it swallows, the recorded banner and prompt, the
  recorded reply to each command it knows, the recorded error reply for any other) and a UART
  socket terminal with a firmware-like device behind it (tests/link/fake_device.py).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONVERSATION = REPO / "tests" / "data" / "renode" / "monitor_conversation.json"
SWALLOWED_BYTES = 9   # Renode reads and drops this many bytes before its shell starts


def load_chunks(path: Path = CONVERSATION) -> list[tuple[str, bytes]]:
    return [(chunk["dir"], bytes.fromhex(chunk["hex"])) for chunk in json.loads(path.read_text())["chunks"]]


def recorded_replies(chunks: list[tuple[str, bytes]]) -> tuple[bytes, bytes, dict[str, bytes]]:
    """(the negotiation Renode sends on connect, what it sends after the answer up to the first
    prompt, {command: every byte it answered with, first answer of each}) from a recording."""
    negotiation = chunks[0][1]
    assert chunks[0][0] == "recv" and chunks[1][0] == "send", "a recording starts with the negotiation"
    opening, replies = b"", {}
    command, first_time = None, False
    for direction, data in chunks[2:]:
        if direction == "send":
            command = data.decode().rstrip("\n")
            first_time = command not in replies
            replies.setdefault(command, b"")
        elif command is None:
            opening += data
        elif first_time:
            replies[command] += data
    return negotiation, opening, replies


class ReplayMonitor:
    """Serves one connection with the recording, strictly; ``mismatch`` names the first difference."""

    def __init__(self, chunks: list[tuple[str, bytes]] | None = None):
        self.chunks = chunks if chunks is not None else load_chunks()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.mismatch: str | None = None
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            for index, (direction, data) in enumerate(self.chunks):
                if direction == "recv":
                    conn.sendall(data)
                    continue
                got = b""
                while len(got) < len(data):
                    try:
                        more = conn.recv(len(data) - len(got))
                    except OSError:
                        more = b""
                    if not more:
                        break
                    got += more
                self.received += got
                if got != data:
                    self.mismatch = f"chunk {index}: the client sent {got!r}, the recorded client {data!r}"
                    return

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


# --- the fake executable ---------------------------------------------------------------------------

def _serve_uart(server: socket.socket, boots: threading.Semaphore) -> None:
    from fake_device import firmware_like, info_payload   # tests/link, on sys.path in main()
    from harness.link.frame import SEQ_UNKNOWN, Frame, FrameReader, encode_frame
    from harness.link.protocol import MsgType

    while True:   # one connection at a time, as Renode's server socket terminal serves them
        conn, _ = server.accept()
        boots.acquire()          # the monitor's `start` boots the device on the current link
        conn.sendall(encode_frame(Frame(MsgType.BOOT, SEQ_UNKNOWN, info_payload())))
        reader = FrameReader(4096)
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                break
            if not data:
                break
            for frame in reader.feed(data):
                for wire in firmware_like(frame):
                    conn.sendall(wire)
        conn.close()


def main(argv: list[str]) -> int:
    repo, args = argv[0], argv[1:]
    sys.path[:0] = [repo, str(Path(repo) / "tests" / "link")]
    port = int(args[args.index("--port") + 1])
    script = Path(args[-1])
    log = open(str(script) + ".seen", "w")
    uart_port = int(next(line for line in script.read_text().splitlines()
                         if "CreateServerSocketTerminal" in line).split()[2])
    negotiation, opening, replies = recorded_replies(load_chunks())
    boots = threading.Semaphore(0)
    # listening before the monitor answers, as Renode's terminal is once hil.resc has run
    uart_server = socket.create_server(("127.0.0.1", uart_port))
    threading.Thread(target=_serve_uart, args=(uart_server, boots), daemon=True).start()
    monitor = socket.create_server(("127.0.0.1", port))
    conn, _ = monitor.accept()
    conn.sendall(negotiation)
    swallowed = b""
    while len(swallowed) < SWALLOWED_BYTES:
        data = conn.recv(SWALLOWED_BYTES - len(swallowed))
        if not data:
            return 1
        swallowed += data
    conn.sendall(opening)
    buffer = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return 0
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command = line.decode(errors="replace").strip()
            log.write(command + "\n")
            log.flush()
            if command == "quit":
                return 0
            if command == "start":
                boots.release()
            reply = replies.get(command)
            if not command:     # the real one answers an empty line with a prompt alone
                reply = b"\n\r" + replies["version"].rsplit(b"\n\r", 1)[-1]
            elif reply is None:   # the recorded error reply, for this command
                reply = replies["bogus"].replace(b"bogus", command.split()[0].encode() if command else b"")
            conn.sendall(reply)


def install_fake_renode(folder: Path, monkeypatch, *, exec_child: bool = True) -> Path:
    """A ``renode`` launcher in ``folder`` running this module (returned); ``$HIL_RENODE`` names it.
    ``exec_child=False``: the launcher runs the fake as its child, as Renode's own launcher
    runs mono."""
    folder.mkdir(parents=True, exist_ok=True)
    launcher = folder / "renode"
    fake = Path(__file__).resolve()
    run = f'{sys.executable} {fake} {REPO} "$@"'
    launcher.write_text("#!/bin/sh\n" + ("exec " if exec_child else "") + run + "\n")
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("HIL_RENODE", str(launcher))
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return fake


if __name__ == "__main__":   # run as a script, it is the fake Renode
    sys.exit(main(sys.argv[1:]))
