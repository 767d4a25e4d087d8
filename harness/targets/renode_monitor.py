"""Renode's monitor over its TCP port (``renode --port N``), as the real one (1.15.3) behaves.

The conversation, recorded from a real Renode in ``tests/data/renode/monitor_conversation.json``:

1. On connect the monitor sends only telnet option negotiation, ``ff fd 00 ff fb 01 ff fb 03
   ff fc 22`` (DO BINARY, WILL ECHO, WILL SUPPRESS-GO-AHEAD, WONT LINEMODE).
2. It then reads and discards exactly 9 bytes, the answer it expects (its SocketServerProvider
   does ``ReadByte()`` nine times). A client that sends a command first loses its first 9 bytes
   (``help\\n`` + ``quit\\n`` reached Renode as ``t\\n``). :data:`NEGOTIATION_ANSWER` is that
   answer: WILL BINARY, DO ECHO, DO SUPPRESS-GO-AHEAD.
3. Only then come the banner and the prompt, ``(monitor) `` (after ``mach create "hil"``:
   ``(hil) ``), with ANSI colour codes and CR LF line ends even under ``--plain``.
4. Every command is echoed, then its output, then the prompt again. ``quit`` closes the socket.
"""

from __future__ import annotations

import re
import socket

from harness.deadline import Deadline
from harness.errors import ConfigError, TargetError
from harness.process import connect_when_listening

_IAC = 0xFF
_WILL, _WONT, _DO, _DONT, _SB, _SE = 0xFB, 0xFC, 0xFD, 0xFE, 0xFA, 0xF0
# what Renode sends first, and the 9 bytes it then swallows before its shell starts
RENODE_NEGOTIATION = bytes.fromhex("fffd00fffb01fffb03fffc22")
NEGOTIATION_ANSWER = bytes.fromhex("fffb00fffd01fffd03")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_PROMPT = re.compile(rb"\(([A-Za-z0-9_.-]+)\) ?\Z")
_ERROR = re.compile(r"^(There was an error|Could not|No such command|Error:|Invalid|Parameters did not match)",
                    re.MULTILINE)


def strip_telnet(data: bytes) -> bytes:
    """Drop telnet negotiation (IAC WILL/WONT/DO/DONT x, IAC SB ... IAC SE) and colour codes."""
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte != _IAC:
            out.append(byte)
            i += 1
            continue
        command = data[i + 1] if i + 1 < len(data) else None
        if command == _SB:  # SB ... IAC SE
            end = data.find(bytes((_IAC, _SE)), i + 2)
            i = len(data) if end < 0 else end + 2
        elif command in (_WILL, _WONT, _DO, _DONT):
            i += 3
        elif command == _IAC:
            out.append(_IAC)
            i += 2
        else:
            i += 2
    return _ANSI.sub(b"", bytes(out)).replace(b"\r", b"")


def negotiation_answer(offer: bytes) -> bytes:
    """The client's answer to a telnet offer (whole ``IAC cmd option`` triples): DO for every
    WILL, WILL for every DO, nothing for WONT/DONT. For Renode's offer: :data:`NEGOTIATION_ANSWER`."""
    answer = bytearray()
    for i in range(0, len(offer) - 2, 3):   # whole IAC triples, as _read_negotiation cuts them
        command, option = offer[i + 1], offer[i + 2]
        if command == _DO:
            answer += bytes((_IAC, _WILL, option))
        elif command == _WILL:
            answer += bytes((_IAC, _DO, option))
        # WONT/DONT need no answer
    return bytes(answer)


class MonitorError(TargetError):
    """A Renode monitor command failed or the monitor did not answer."""


class RenodeMonitor:
    """Line-based client for Renode's monitor port: one command, then its output up to the prompt."""

    def __init__(self, sock: socket.socket, *, timeout_s: float = 10.0, target: str = "renode"):
        self._sock = sock
        self.timeout_s = timeout_s
        self.target = target
        self._buffer = b""
        self.prompt = ""
        self.banner = ""   # what came before the first prompt
        self.transcript: list[tuple[str, bytes]] = []   # ("recv" | "send", bytes), in order

    @classmethod
    def connect(cls, host: str, port: int, *, timeout_s: float = 10.0, target: str = "renode",
                alive=lambda: True) -> "RenodeMonitor":
        """Connect (retrying until the port listens), answer the negotiation, wait for the prompt."""
        deadline = Deadline(timeout_s)
        try:
            sock = connect_when_listening(host, port, deadline, alive=alive, interval_s=0.05)
        except OSError as e:
            raise MonitorError(f"cannot reach the Renode monitor on {host}:{port}: {e}", target=target) from e
        monitor = cls(sock, timeout_s=timeout_s, target=target)
        try:
            monitor.handshake(deadline)
        except BaseException:
            monitor.close()
            raise
        return monitor

    def handshake(self, deadline: Deadline) -> str:
        """Read Renode's negotiation, send the 9-byte answer it swallows, then read up to the
        first prompt (the banner is returned)."""
        offer = self._read_negotiation(deadline)
        self._send(negotiation_answer(offer) if offer else NEGOTIATION_ANSWER)
        self.banner = self.read_until_prompt(deadline)
        return self.banner

    def _read_negotiation(self, deadline: Deadline) -> bytes:
        while len(self._buffer) < len(RENODE_NEGOTIATION):
            if self._buffer and self._buffer[0] != _IAC:
                break   # not a telnet server that negotiates: nothing to answer
            if _PROMPT.search(strip_telnet(self._buffer)):
                break
            self._recv(deadline, "its telnet negotiation")
        offer = bytearray()
        while len(self._buffer) >= 3 and self._buffer[0] == _IAC and self._buffer[1] in (_WILL, _WONT, _DO, _DONT):
            offer += self._buffer[:3]
            self._buffer = self._buffer[3:]
        return bytes(offer)

    def _recv(self, deadline: Deadline, waiting_for: str) -> None:
        if deadline.expired():
            raise MonitorError(f"Renode monitor sent no {waiting_for} within {deadline.timeout_s:.1f} s; got "
                               f"{strip_telnet(self._buffer)[-200:].decode(errors='replace')!r} "
                               f"(raw {self._buffer[-40:].hex(' ')})", target=self.target)
        self._sock.settimeout(max(0.01, deadline.remaining_s()))
        try:
            chunk = self._sock.recv(65536)
        except socket.timeout:
            return
        except OSError as e:
            raise MonitorError(f"Renode monitor connection failed: {e}", target=self.target) from e
        if not chunk:
            raise MonitorError(f"Renode closed the monitor connection while we waited for {waiting_for}; "
                               f"got {strip_telnet(self._buffer)[-200:].decode(errors='replace')!r}",
                               target=self.target)
        self.transcript.append(("recv", chunk))
        self._buffer += chunk

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as e:
            raise MonitorError(f"Renode monitor connection failed: {e}", target=self.target) from e
        self.transcript.append(("send", data))

    def read_until_prompt(self, deadline: Deadline | None = None) -> str:
        deadline = deadline or Deadline(self.timeout_s)
        while True:
            text = strip_telnet(self._buffer)
            match = _PROMPT.search(text)
            if match:
                self._buffer = b""
                self.prompt = match.group(1).decode()
                return text[:match.start()].decode(errors="replace")
            self._recv(deadline, "prompt")

    def execute(self, command: str, timeout_s: float | None = None) -> str:
        """Run one command; return its output (without the echoed command). Raises on error text."""
        if "\n" in command:
            raise ConfigError("one monitor command per call")
        self._send(command.encode() + b"\n")
        output = self.read_until_prompt(Deadline(self.timeout_s if timeout_s is None else timeout_s))
        lines = output.split("\n")
        if lines and lines[0].strip() == command.strip():
            lines = lines[1:]  # the monitor echoes the command
        output = "\n".join(lines).strip()
        if _ERROR.search(output):
            raise MonitorError(f"monitor command '{command}' failed: {output}", target=self.target)
        return output

    def quit(self) -> None:
        """``quit``: Renode exits, so no prompt follows."""
        try:
            self._send(b"quit\n")
        except MonitorError:
            pass  # already gone

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


# --- what the monitor prints --------------------------------------------------------------------

_INTEGER = re.compile(r"^\s*(?:0x[0-9A-Fa-f]+|\d+)\s*$", re.MULTILINE)


def parse_monitor_integer(output: str, what: str) -> int:
    """The integer a monitor property prints (``1234`` or ``0x4D2``), or a MonitorError naming ``what``."""
    match = _INTEGER.search(output)
    if match is None:
        raise MonitorError(f"Renode printed no integer for {what}: {output!r}")
    return int(match.group(0).strip(), 0)


_TIME = re.compile(r"(\d+):(\d+):(\d+(?:\.\d+)?)")


def parse_virtual_time(output: str) -> float:
    """Seconds from Renode's ``HH:MM:SS.ffffff`` time interval (``machine ElapsedVirtualTime``)."""
    match = _TIME.search(output)
    if match is None:
        raise MonitorError(f"Renode printed no virtual time: {output!r}")
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
