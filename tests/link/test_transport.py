"""The transport turns whatever a broken link raises under pyserial into a LinkError naming the
URL: seen on the labgrid farm, where a dead exporter made pyserial's RFC 2217 client raise
BrokenPipeError (an OSError, not a SerialException) from the negotiation a new timeout sends."""

from __future__ import annotations

import pytest

from harness.errors import LinkError
from harness.link.transport import Transport


class _BrokenRfc2217:
    """A pyserial link whose socket broke: a new timeout writes a subnegotiation to it."""
    is_open = True
    timeout = 0.25

    def fileno(self):
        raise OSError("no file descriptor")   # as pyserial's rfc2217 client

    def __setattr__(self, name, value):
        if name == "timeout":
            raise BrokenPipeError(32, "Broken pipe")
        super().__setattr__(name, value)

    def write(self, data):
        raise ConnectionResetError(104, "Connection reset by peer")

    def close(self):
        pass


def test_an_os_error_under_pyserial_becomes_a_link_error():
    transport = Transport(_BrokenRfc2217(), "rfc2217://127.0.0.1:9?ign_set_control")
    with pytest.raises(LinkError, match=r"rfc2217://127.0.0.1:9.*failed while reading: \[Errno 32\] Broken pipe"):
        transport.read_some(0.1)
    with pytest.raises(LinkError, match=r"failed while writing: \[Errno 104\]"):
        transport.write(b"\x00")
