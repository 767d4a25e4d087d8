"""Serial ports of real boards: every port is a pyserial URL or a device path.

- ``/dev/ttyACM0``, ``COM5``: a local port.
- ``rfc2217://lab-2:4001``: a port served by another machine (ser2net, pyserial's
  rfc2217_server.py); pyserial speaks RFC 2217, so baud and flow control travel with it.
- ``socket://127.0.0.1:4321``: a raw TCP byte stream (an emulator, ser2net in raw mode).
- ``auto``: the local port whose USB serial number is the probe's unique ID (ST-LINK/V2-1 and V3,
  CMSIS-DAP and J-Link OB all expose their virtual COM port with the probe's serial number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence
from urllib.parse import urlsplit

AUTO_PORT = "auto"
# pyserial URL handlers that make sense for a board's link
URL_SCHEMES = ("rfc2217", "socket", "loop", "spy", "alt", "hwgrep")
NETWORK_SCHEMES = ("rfc2217", "socket")


@dataclass(frozen=True)
class PortInfo:
    """What discovery needs of a pyserial ListPortInfo (so tests can fake it)."""

    device: str
    serial_number: str | None
    description: str = ""
    interface: str | None = None
    location: str | None = None


def normalise_port(port: str) -> str:
    """Validate a port setting; returns it stripped. Raises ValueError with what is wrong."""
    port = port.strip()
    if not port:
        raise ValueError("port must not be empty; use a device path, a URL or 'auto'")
    if port == AUTO_PORT or "://" not in port:
        return port
    parts = urlsplit(port)
    if parts.scheme not in URL_SCHEMES:
        raise ValueError(f"unknown port URL scheme '{parts.scheme}://'; use a device path or one of "
                         + ", ".join(f"{s}://" for s in URL_SCHEMES))
    if parts.scheme in NETWORK_SCHEMES:
        try:
            port_number = parts.port
        except ValueError:
            port_number = None
        if not parts.hostname or port_number is None:
            raise ValueError(f"{parts.scheme}:// needs HOST:PORT, got '{port}'")
    return port


def is_network_port(port: str) -> bool:
    return urlsplit(port).scheme in NETWORK_SCHEMES if "://" in port else False


def list_ports() -> list[PortInfo]:
    """Local serial ports as seen by pyserial."""
    from serial.tools import list_ports as pyserial_list_ports
    return [PortInfo(device=p.device, serial_number=p.serial_number, description=p.description or "",
                     interface=p.interface, location=p.location)
            for p in pyserial_list_ports.comports()]


class PortNotFound(LookupError):
    """No (or more than one) port matches; the message lists what was seen."""


def find_port_for_probe(probe_uid: str, ports: Iterable[PortInfo] | None = None) -> str:
    """The device of the one port whose USB serial number is ``probe_uid`` (case-insensitive).

    Raises PortNotFound naming the ports seen when none or several match.
    """
    seen: Sequence[PortInfo] = list(list_ports() if ports is None else ports)
    wanted = probe_uid.strip().lower()
    matches = [p for p in seen if p.serial_number and p.serial_number.strip().lower() == wanted]
    if len(matches) == 1:
        return matches[0].device
    if len(matches) > 1:
        # a probe with several CDC interfaces: the lowest-numbered is the usual VCP; say so rather than guess
        listed = ", ".join(f"{p.device} ({p.interface or p.description or 'no interface name'})" for p in matches)
        raise PortNotFound(f"probe {probe_uid} has {len(matches)} serial ports: {listed}; "
                           f"set the board's port explicitly")
    listed = ", ".join(f"{p.device} serial={p.serial_number or '-'}" for p in seen) or "no serial ports at all"
    raise PortNotFound(f"no serial port has USB serial number {probe_uid}; seen: {listed}. "
                       f"Is the board plugged in, and does your user have access (dialout group / udev)?")


def resolve_port(port: str, probe_uid: str,
                 lister: Callable[[], Iterable[PortInfo]] | None = None) -> str:
    """The URL or device to open: ``port`` itself, or for ``auto`` the probe's own port."""
    port = normalise_port(port)
    if port != AUTO_PORT:
        return port
    return find_port_for_probe(probe_uid, lister() if lister is not None else None)
