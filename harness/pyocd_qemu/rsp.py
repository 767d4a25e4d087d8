"""A small GDB remote serial protocol client for QEMU's gdbstub (``-gdb tcp:127.0.0.1:PORT``).

Only what a debug probe needs: memory read/write (``m``/``M``), single registers (``p``/``P``),
continue/step (``c``/``s``), interrupt (0x03), ``monitor`` commands (``qRcmd``) and the register
numbering from ``qXfer:features:read:target.xml``.

QEMU facts this relies on (QEMU 7.2, measured):
- Replies are acknowledged with ``+``; QEMU offers no no-ack mode. PacketSize=0x1000.
- While the VM runs, *any* byte the client sends stops it (the byte itself is dropped) and QEMU
  answers with a stop reply. So the client sends 0x03 to halt and never sends a packet while running.
- Debugger writes to the flash region succeed (it is a ROM memory region; guest stores are ignored).
"""

from __future__ import annotations

import logging
import re
import select
import socket
import xml.etree.ElementTree as ElementTree

from harness.deadline import Deadline
from harness.process import connect_when_listening

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
# QEMU's PacketSize is 0x1000; "M addr,len:" plus two hex digits per byte must fit.
MAX_MEMORY_CHUNK = 1024


class RspError(Exception):
    """The stub answered with an error (``Exx``) or something this client does not understand."""


class RspDisconnected(RspError):
    """The connection to the stub is gone (QEMU exited or closed the socket)."""


class RspTimeout(RspError):
    """No reply within the deadline."""


def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFF


def frame(payload: str) -> bytes:
    data = payload.encode("latin-1")
    return b"$" + data + b"#" + f"{checksum(data):02x}".encode()


def parse_register_map(read_feature) -> dict[str, int]:
    """Register name -> GDB register number from target.xml and the files it includes.

    ``read_feature(name)`` returns the text of one annex. Numbers are assigned in document order,
    restarting from an explicit ``regnum`` attribute, as GDB does.
    """
    names: dict[str, int] = {}
    next_regnum = 0

    def walk(annex: str) -> None:
        nonlocal next_regnum
        # QEMU's target.xml uses the xi: prefix without declaring it
        text = re.sub(r"<(/?)xi:include", r"<\1include", read_feature(annex))
        root = ElementTree.fromstring(text)
        for element in root.iter():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "include":
                walk(element.attrib["href"])
            elif tag == "reg":
                regnum = int(element.attrib.get("regnum", next_regnum))
                names[element.attrib["name"]] = regnum
                next_regnum = regnum + 1

    walk("target.xml")
    return names


class GdbRemote:
    """One connection to a gdbstub. Not thread-safe; the probe serialises access."""

    def __init__(self, sock: socket.socket, *, timeout_s: float = DEFAULT_TIMEOUT_S):
        self._sock = sock
        self.timeout_s = timeout_s
        self._buffer = bytearray()
        self.running = False
        self.last_stop: str | None = None
        self.packet_size = 0x1000
        self.registers: dict[str, int] = {}

    @classmethod
    def connect(cls, host: str, port: int, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> "GdbRemote":
        # QEMU may still be starting: refused connections are retried until the deadline
        try:
            sock = connect_when_listening(host, port, Deadline(timeout_s))
        except OSError as e:
            raise RspDisconnected(f"cannot connect to gdbstub {host}:{port}: {e}") from e
        remote = cls(sock, timeout_s=timeout_s)
        try:
            remote._handshake()
        except BaseException:
            remote.close()
            raise
        return remote

    def _handshake(self) -> None:
        features = self.command("qSupported:xmlRegisters=arm;swbreak+;hwbreak+")
        match = re.search(r"PacketSize=([0-9a-fA-F]+)", features)
        if match:
            self.packet_size = int(match.group(1), 16)
        self.last_stop = self.command("?")  # QEMU started with -S reports the halted state
        self.running = False
        self.registers = parse_register_map(self.read_feature)

    # --- framing ---------------------------------------------------------------------------------

    def _fill(self, deadline: Deadline | None) -> bool:
        """Read what the socket has; wait until ``deadline`` (None: do not wait). False on timeout."""
        wait_s = 0.0 if deadline is None else deadline.remaining_s()
        ready, _, _ = select.select([self._sock], [], [], wait_s)
        if not ready:
            return False
        try:
            data = self._sock.recv(65536)
        except OSError as e:
            raise RspDisconnected(f"gdbstub connection failed: {e}") from e
        if not data:
            raise RspDisconnected("gdbstub closed the connection (did QEMU exit?)")
        self._buffer += data
        return True

    def _take_packet(self) -> str | None:
        """One complete packet from the buffer (acks and noise before '$' dropped), or None."""
        start = self._buffer.find(b"$")
        if start < 0:
            self._buffer.clear()  # only acks ('+') so far
            return None
        end = self._buffer.find(b"#", start)
        if end < 0 or len(self._buffer) < end + 3:
            del self._buffer[:start]
            return None
        payload = bytes(self._buffer[start + 1:end])
        received = int(self._buffer[end + 1:end + 3], 16)
        del self._buffer[:end + 3]
        if received != checksum(payload):
            self._sock.sendall(b"-")
            raise RspError(f"bad checksum from gdbstub: {payload[:40]!r}")
        self._sock.sendall(b"+")
        return payload.decode("latin-1")

    def _receive(self, timeout_s: float | None = None) -> str:
        deadline = Deadline(self.timeout_s if timeout_s is None else timeout_s)
        while True:
            packet = self._take_packet()
            if packet is not None:
                return packet
            if not self._fill(deadline):
                raise RspTimeout(f"no reply from gdbstub within {deadline.timeout_s:.1f} s")

    def _send(self, payload: str) -> None:
        try:
            self._sock.sendall(frame(payload))
        except OSError as e:
            raise RspDisconnected(f"gdbstub connection failed: {e}") from e

    def command(self, payload: str, timeout_s: float | None = None) -> str:
        """Send one packet and return its reply. Only valid while the target is halted."""
        if self.running:
            raise RspError(f"'{payload[:1]}' sent while the target runs; halt it first")
        self._send(payload)
        return self._receive(timeout_s)

    # --- run control -----------------------------------------------------------------------------

    @staticmethod
    def _is_stop_reply(packet: str) -> bool:
        return packet[:1] in ("T", "S", "W", "X")

    def poll_stop(self) -> bool:
        """While running: consume a pending stop reply if there is one. Returns True if halted."""
        if not self.running:
            return True
        self._fill(None)
        packet = self._take_packet()
        if packet is not None and self._is_stop_reply(packet):
            self.running = False
            self.last_stop = packet
        return not self.running

    def cont(self) -> None:
        if self.running:
            return
        self._send("c")
        self.running = True

    def step(self) -> str:
        reply = self.command("s")
        self.last_stop = reply
        return reply

    def interrupt(self, timeout_s: float | None = None) -> str:
        """Halt a running target (0x03) and return the stop reply."""
        if not self.running:
            return self.last_stop or ""
        try:
            self._sock.sendall(b"\x03")
        except OSError as e:
            raise RspDisconnected(f"gdbstub connection failed: {e}") from e
        deadline = Deadline(self.timeout_s if timeout_s is None else timeout_s)
        while True:
            packet = self._receive(deadline.remaining_s())
            if self._is_stop_reply(packet):
                self.running = False
                self.last_stop = packet
                return packet

    def monitor(self, text: str, timeout_s: float | None = None) -> str:
        """A QEMU monitor command through ``qRcmd``; returns its console output."""
        if self.running:
            raise RspError("monitor command while running; halt first")
        self._send("qRcmd," + text.encode().hex())
        output = []
        deadline = Deadline(self.timeout_s if timeout_s is None else timeout_s)
        while True:
            packet = self._receive(deadline.remaining_s())
            if packet.startswith("O") and packet != "OK":
                output.append(bytes.fromhex(packet[1:]).decode(errors="replace"))
                continue
            if packet.startswith("E"):
                raise RspError(f"monitor '{text}' failed: {packet}")
            return "".join(output)

    # --- data ------------------------------------------------------------------------------------

    def read_feature(self, annex: str) -> str:
        text, offset = [], 0
        while True:
            reply = self.command(f"qXfer:features:read:{annex}:{offset:x},{self.packet_size - 16:x}")
            if not reply or reply[0] not in "lm":
                raise RspError(f"cannot read {annex}: {reply!r}")
            text.append(reply[1:])
            offset += len(reply) - 1
            if reply[0] == "l":
                return "".join(text)

    def read_memory(self, address: int, length: int) -> bytes:
        out = bytearray()
        while length > 0:
            chunk = min(length, MAX_MEMORY_CHUNK)
            reply = self.command(f"m{address:x},{chunk:x}")
            if reply.startswith("E") or len(reply) != 2 * chunk:
                raise RspError(f"memory read of {chunk} bytes at 0x{address:08x} failed: {reply[:16]!r}")
            out += bytes.fromhex(reply)
            address += chunk
            length -= chunk
        return bytes(out)

    def write_memory(self, address: int, data: bytes) -> None:
        view = memoryview(bytes(data))
        while view:
            chunk = view[:MAX_MEMORY_CHUNK]
            reply = self.command(f"M{address:x},{len(chunk):x}:{bytes(chunk).hex()}")
            if reply != "OK":
                raise RspError(f"memory write of {len(chunk)} bytes at 0x{address:08x} failed: {reply!r}")
            address += len(chunk)
            view = view[len(chunk):]

    def read_register(self, regnum: int) -> int:
        reply = self.command(f"p{regnum:x}")
        if reply.startswith("E") or not reply:
            raise RspError(f"register {regnum} read failed: {reply!r}")
        return int.from_bytes(bytes.fromhex(reply), "little")

    def write_register(self, regnum: int, value: int, size_bytes: int = 4) -> None:
        reply = self.command(f"P{regnum:x}={value.to_bytes(size_bytes, 'little').hex()}")
        if reply != "OK":
            raise RspError(f"register {regnum} write failed: {reply!r}")

    def detach(self) -> None:
        """Let the VM run on without a debugger (QEMU resumes it on ``D``)."""
        if self.running:
            self.interrupt()
        try:
            self.command("D", timeout_s=1.0)
        except RspError:
            pass  # the stub may close the connection before answering
        self.running = True

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

