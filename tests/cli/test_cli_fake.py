"""The device commands' logic and output against the fake device (no QEMU, no firmware)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from fake_device import MAX_PAYLOAD, FakeDevice, firmware_like, reply
from harness.cli import main as cli
from harness.link.client import DeviceClient
from harness.targets import RunningDevice


def fake_open_device(respond=firmware_like):
    """Stands in for harness.cli.commands.info.open_device: a fake device instead of build + target."""
    @contextmanager
    def open_device(args):
        with FakeDevice(respond) as fake, DeviceClient.open(fake.url, target="fake") as client:
            boot = client.wait_boot(2)
            yield RunningDevice(target=None, client=client, boot_info=boot)  # type: ignore[arg-type]
    return open_device


@pytest.fixture
def patched(monkeypatch):
    def patch(respond=firmware_like):
        opener = fake_open_device(respond)
        monkeypatch.setattr("harness.cli.commands.info.open_device", opener)
        monkeypatch.setattr("harness.cli.commands.echo.open_device", opener)
    return patch


def parse(out: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in out.strip().splitlines())


def test_info_prints_fields(patched, capsys):
    patched()
    assert cli.main(["info", "--target", "qemu"]) == 0
    fields = parse(capsys.readouterr().out)
    assert fields["board"] == "fakeboard"
    assert fields["max_payload"] == str(MAX_PAYLOAD)
    assert fields["protocol_version"] == "1"


def test_echo_prints_throughput(patched, capsys):
    patched()
    assert cli.main(["echo", "--bytes", "5000", "--chunk", "300", "--seed", "7"]) == 0
    fields = parse(capsys.readouterr().out)
    assert fields["bytes"] == "5000" and fields["requests"] == "17" and fields["seed"] == "7"
    assert fields["verified"] == "every byte"
    for key in ("round_trip_kBps", "host_to_device_kBps", "device_to_host_kBps"):
        assert float(fields[key]) > 0
    assert float(fields["empty_rtt_ms"]) >= 0


def test_echo_detects_a_corrupted_byte(patched, capsys):
    def flip_byte_100(frame):
        if getattr(frame, "type", None) == 0x02 and len(frame.payload) > 100:
            corrupted = bytearray(frame.payload)
            corrupted[100] ^= 0xFF
            return [reply(frame, bytes(corrupted))]
        return firmware_like(frame)

    patched(flip_byte_100)
    assert cli.main(["echo", "--bytes", "1000", "--chunk", "400", "--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert "ECHO corrupted data at byte 100 of the stream (seed 1)" in err


def test_echo_rejects_chunk_above_max_payload(patched, capsys):
    patched()
    assert cli.main(["echo", "--bytes", "10", "--chunk", str(MAX_PAYLOAD + 1)]) == 2
    assert f"outside 1..{MAX_PAYLOAD}" in capsys.readouterr().err


def test_unknown_target_is_one_line(capsys):
    assert cli.main(["info", "--target", "nope", "--elf", __file__]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown target 'nope'; known targets: " in err and "qemu" in err
