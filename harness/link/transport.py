"""Byte transport under the link: any pyserial URL, read in chunks as soon as bytes arrive.

pyserial's ``read(n)`` waits for ``n`` bytes or the timeout, and ``in_waiting`` of a
``socket://`` link is only 0 or 1, so neither reads a burst efficiently. Links that have a file
descriptor (sockets, POSIX serial ports) are waited on with ``select`` and then drained with a
non-blocking read; others (``loop://``, ``rfc2217://``) read one byte with a timeout and then
whatever ``in_waiting`` reports.
"""

from __future__ import annotations

import select
import socket
from urllib.parse import urlsplit

import serial

from harness.errors import LinkError

READ_CHUNK = 65536


def _keep_input() -> None:
    """Stands in for reset_input_buffer during open: every received byte is kept."""


class Transport:
    """Owns one open pyserial link. ``close()`` is idempotent."""

    def __init__(self, link: serial.SerialBase, url: str):
        self.url = url
        self._link = link
        self._fd: int | None = None
        try:
            self._fd = link.fileno()
        except (AttributeError, NotImplementedError, OSError, ValueError):
            self._fd = None
        if self._fd is not None:
            link.timeout = 0  # reads are preceded by select(); never block inside pyserial

    @classmethod
    def open(cls, url: str, *, baudrate: int = 115200, write_timeout_s: float | None = 10.0) -> "Transport":
        # pyserial's RFC 2217 client raises NotImplementedError for a write timeout; writes to
        # it are bounded by the remote server's flow control instead.
        if urlsplit(url).scheme == "rfc2217":
            write_timeout_s = None
        try:
            link = serial.serial_for_url(url, do_not_open=True, timeout=0, baudrate=baudrate,
                                         write_timeout=write_timeout_s)
            # pyserial's open() ends with reset_input_buffer(), which would throw away a BOOT frame
            # that arrives between connect and the end of open() (QEMU starts the guest on connect).
            link.reset_input_buffer = _keep_input
            try:
                link.open()
            finally:
                del link.reset_input_buffer
        except (serial.SerialException, ValueError, OSError) as e:
            raise LinkError(f"cannot open link {url}: {e}; check that the target is running "
                            f"and the URL/port is right") from e
        return cls(link, url)

    @property
    def is_open(self) -> bool:
        return self._link is not None and self._link.is_open

    def read_some(self, timeout_s: float) -> bytes:
        """Bytes available now, waiting up to ``timeout_s`` for the first one; b"" on timeout."""
        link = self._require_open()
        try:
            if self._fd is not None:
                ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout_s))
                if not ready:
                    return b""
                data = link.read(READ_CHUNK)
                if not data:
                    # readable but nothing read: the peer closed (pyserial raises on sockets,
                    # a POSIX tty returns b"" when the device vanished)
                    raise LinkError(f"link {self.url} closed by the peer")
                return data
            timeout_s = max(0.0, timeout_s)
            if link.timeout != timeout_s:
                # on rfc2217:// a new timeout reconfigures the port (a subnegotiation on the wire)
                link.timeout = timeout_s
            first = link.read(1)
            if not first:
                return b""
            waiting = link.in_waiting
            return first + (link.read(waiting) if waiting else b"")
        except (serial.SerialException, OSError) as e:
            # OSError: a network port's socket broke under pyserial (BrokenPipeError from its
            # RFC 2217 negotiation when the exporter died)
            raise LinkError(f"link {self.url} failed while reading: {e}") from e

    def write(self, data: bytes) -> None:
        link = self._require_open()
        try:
            link.write(data)
        except serial.SerialTimeoutException as e:
            raise LinkError(f"link {self.url}: write of {len(data)} bytes timed out; "
                            f"the device is not reading") from e
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"link {self.url} failed while writing: {e}") from e

    def close(self) -> None:
        link, self._link = self._link, None
        if link is None:
            return
        sock = getattr(link, "_socket", None)
        if isinstance(sock, socket.socket):
            # pyserial's socket:// close() ends with a fixed 0.3 s sleep "for quick reconnects";
            # nothing here reconnects that fast, so close the socket ourselves.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the peer already went away
            sock.close()
            link._socket = None
            link.is_open = False
        else:
            link.close()

    def _require_open(self) -> serial.SerialBase:
        if self._link is None:
            raise LinkError(f"link {self.url} is closed")
        return self._link
