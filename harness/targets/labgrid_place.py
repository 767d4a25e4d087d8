"""labgrid backend: a place of a labgrid board farm, acquired through its coordinator.

    with create_target("labgrid", place="p1", coordinator="lab-host:20408") as target:
        target.start(image)          # acquire the place, flash through its probe
        client = target.connect()    # rfc2217://exporter:PORT, run, wait for BOOT
    create_target("labgrid", place="p1,p2")   # any free one of these (one per suite job)

``place`` defaults to ``$LG_PLACE`` and ``coordinator`` to ``$LG_COORDINATOR`` (labgrid's own
variables), so ``LG_PLACE=p1,p2 hil run --target labgrid --jobs 2`` runs one place per job.

Sequence: acquire the place (a free one of the list; when the only one is held, a labgrid
reservation for it, waited on until ``acquire_timeout_s``, then BoardBusyError naming the holder)
-> read its resources from the coordinator -> the link is the place's NetworkSerialPort as
``rfc2217://HOST:PORT`` (the exporter's ser2net), the probe is the place's NetworkService:
``gdbstub`` (a QEMU gdbstub: harness.pyocd_qemu's ``qemu:HOST:PORT`` probe) or ``pyocd`` (a
``pyocd server`` on the exporter host: pyOCD's own ``remote:HOST:PORT`` probe; the pyOCD target
type from the place's tag ``pyocd_target``) -> flash, verify,
reset and run as the pyocd target does (harness.targets.pyocd_board, which this wraps). ``stop()``
ends the pyOCD session, closes the link and releases the place (and cancels the reservation),
whatever failed before. A process killed with SIGKILL releases nothing: the coordinator keeps the
place acquired by ``HOST/USER.hil-PID-N``; the next harness run on the same host sees that PID
is gone and takes the place back (``release --kick``); from another host, release it by hand.
"""

from __future__ import annotations

import getpass
import itertools
import logging
import os
import re
import socket
import time
from pathlib import Path

from harness.deadline import Deadline
from harness.errors import BoardBusyError, ConfigError, TargetError
from harness.farm import Placement, record_placement
from harness.farm.client import FarmError, LabgridClient, PlaceBusy, PlaceResource
from harness.link.client import DeviceClient
from harness.targets import register_target
from harness.targets.base import DEFAULT_BOOT_TIMEOUT_S, Target

log = logging.getLogger(__name__)

DEFAULT_ACQUIRE_TIMEOUT_S = 60.0
QEMU_TARGET_TYPE = "qemu_netduinoplus2"
_counter = itertools.count(1)
_OWN_USER = re.compile(r"\.hil-(?P<pid>\d+)-\d+$")


def holder_is_stale(holder: str | None, hostname: str | None = None) -> bool:
    """Whether ``HOST/USER.hil-PID-N`` names a harness process of this host that is gone."""
    if not holder or "/" not in holder:
        return False
    host, user = holder.split("/", 1)
    match = _OWN_USER.search(user)
    if match is None or host != (hostname or socket.gethostname()):
        return False
    try:
        os.kill(int(match.group("pid")), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def link_url(resource: PlaceResource) -> str:
    """``rfc2217://HOST:PORT`` (or ``socket://`` for a raw port) of a NetworkSerialPort."""
    protocol = resource.params.get("protocol", "rfc2217")
    scheme = {"rfc2217": "rfc2217", "raw": "socket"}.get(protocol)
    if scheme is None:
        raise ConfigError(f"serial resource {resource.name} speaks '{protocol}'; the link takes rfc2217 or raw")
    url = f"{scheme}://{resource.params['host']}:{resource.params['port']}"
    # ser2net does not acknowledge modem-control requests on a port without modem lines (a pty,
    # many USB bridges): without ign_set_control pyserial waits for the ack and gives up
    return url + "?ign_set_control" if scheme == "rfc2217" else url


def probe_id(resource: PlaceResource) -> str:
    """The pyOCD probe id of a place's probe resource (a NetworkService by name)."""
    address, port = resource.params.get("address"), resource.params.get("port")
    if resource.name == "gdbstub":
        return f"qemu:{address}:{port}"
    if resource.name == "pyocd":
        return f"remote:{address}:{port}"
    raise ConfigError(f"probe resource '{resource.name}' is neither 'gdbstub' (QEMU) nor 'pyocd' (pyocd server)")


@register_target("labgrid")
class LabgridPlaceTarget(Target):
    """A labgrid place: its serial port over RFC 2217, flashed through its probe with pyOCD."""

    def __init__(self, *, board: str | None = None, run_dir: str | os.PathLike | None = None,
                 boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S, place: str | None = None,
                 coordinator: str | None = None, acquire_timeout_s: float = DEFAULT_ACQUIRE_TIMEOUT_S,
                 target_type: str | None = None, baud: int | None = None, verify: bool = True,
                 username: str | None = None, poll_interval_s: float = 0.5):
        super().__init__(board=board, run_dir=run_dir, boot_timeout_s=boot_timeout_s)
        place = place or os.environ.get("LG_PLACE")
        if not place:
            raise ConfigError("labgrid target needs a place: place='p1' (or 'p1,p2': any free one), "
                              "or $LG_PLACE")
        self.places = [p.strip() for p in place.split(",") if p.strip()]
        self.acquire_timeout_s = acquire_timeout_s
        self.target_type = target_type
        self.baud = baud
        self.verify = verify
        self.poll_interval_s = poll_interval_s
        self.username = username or f"{getpass.getuser()}.hil-{os.getpid()}-{next(_counter)}"
        self.client = LabgridClient(coordinator, username=self.username)
        self.place: str | None = None        # the acquired one (kept after release, for reports)
        self._held = False
        self.exporter: str | None = None
        self.holder_seen: str | None = None  # who held it while we waited
        self.acquire_s: float | None = None
        self._token: str | None = None
        self._inner = None                   # the PyocdTarget doing the flashing and the link

    # --- resource ----------------------------------------------------------------------------------

    @property
    def url(self) -> str | None:
        return self._inner.url if self._inner is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._inner.log_path if self._inner is not None else None

    @property
    def is_running(self) -> bool:
        return self._inner is not None and self._inner.is_running

    @property
    def session(self):
        return self._inner.session if self._inner is not None else None

    def describe(self) -> str:
        where = self.place or ",".join(self.places)
        return f"labgrid:{where}@{self.exporter}" if self.exporter else f"labgrid:{where}"

    def _hint(self) -> str:
        return f"place {self.place} of coordinator {self.client.coordinator}, exporter {self.exporter}"

    # --- driver ------------------------------------------------------------------------------------

    def start(self, image) -> str:
        if self._inner is not None or self._held:
            raise TargetError("already started; stop() it first", target=self.describe())
        try:
            started = time.monotonic()
            self._acquire(Deadline(self.acquire_timeout_s))
            self.acquire_s = time.monotonic() - started
            self._inner = self._pyocd_target(self.client.resources(self.place))
            record_placement(Placement(self.place, self.exporter or "", self.client.coordinator,
                                       f"{socket.gethostname()}/{self.username}"))
            return self._inner.start(image)
        except BaseException:
            self.stop()
            raise

    def _acquire(self, deadline: Deadline) -> None:
        while True:
            holders = {}
            for place in self.places:
                try:
                    self.client.acquire(place)
                    self.place, self._held = place, True
                    return
                except PlaceBusy as e:
                    if holder_is_stale(e.holder):
                        log.warning("place %s is held by %s, a harness process that is gone; taking it back",
                                    place, e.holder)
                        self.client.release(place, kick=True)
                        continue
                    holders[place] = e.holder
            self.holder_seen = ", ".join(f"{p} by {h}" for p, h in holders.items())
            if deadline.expired():
                raise BoardBusyError(f"no place of {', '.join(self.places)} became free within "
                                     f"{self.acquire_timeout_s:.0f} s: held {self.holder_seen}",
                                     board=",".join(self.places), holder=holders)
            if len(self.places) == 1:
                self._wait_reservation(self.places[0], deadline, holders)
                return
            time.sleep(min(self.poll_interval_s, deadline.remaining_s()))

    def _wait_reservation(self, place: str, deadline: Deadline, holders: dict) -> None:
        """Queue for ``place`` (labgrid serves reservations in order), then acquire it."""
        self._token = self.client.reserve(place)
        log.info("place %s held by %s: waiting on reservation %s", place, holders.get(place), self._token)
        while True:
            if self.client.wait_reservation(self._token, deadline.remaining_s()):
                try:
                    self.client.acquire(place, token=self._token)
                    self.place, self._held = place, True
                    return
                except PlaceBusy as e:  # allocated, then taken by a client without a reservation
                    holders[place] = e.holder
            if deadline.expired():
                token, self._token = self._token, None
                self.client.cancel_reservation(token)
                raise BoardBusyError(f"place {place} stayed held by {holders.get(place)} for "
                                     f"{self.acquire_timeout_s:.0f} s (reservation {token} cancelled)",
                                     board=place, holder=holders)
            time.sleep(min(self.poll_interval_s, deadline.remaining_s()))

    def _pyocd_target(self, resources: list[PlaceResource]):
        from harness.targets.pyocd_board import PyocdTarget
        serial = [r for r in resources if r.cls == "NetworkSerialPort"]
        probes = [r for r in resources if r.cls == "NetworkService" and r.name in ("gdbstub", "pyocd")]
        if not serial or not probes:
            raise ConfigError(f"place {self.place} needs a serial port (USBSerialPort/RawSerialPort) and a probe "
                              f"(NetworkService 'gdbstub' or 'pyocd'); it has: "
                              f"{', '.join(f'{r.cls}/{r.name}' for r in resources) or 'nothing'}")
        unavailable = [r for r in (serial[0], probes[0]) if not r.available]
        if unavailable:
            raise TargetError(f"place {self.place}: {', '.join(r.name for r in unavailable)} not available "
                              f"(is exporter {unavailable[0].exporter} running?)", target=self.describe())
        self.exporter = serial[0].exporter
        probe = probe_id(probes[0])
        target_type = (self.target_type or self.client.tags(self.place).get("pyocd_target")
                       or (QEMU_TARGET_TYPE if probe.startswith("qemu:") else None))
        if target_type is None:
            raise ConfigError(f"place {self.place}: a pyocd server probe needs the pyOCD target type: "
                              f"labgrid-client -p {self.place} set-tags pyocd_target=stm32f446retx (or target_type=)")
        inner = PyocdTarget(board=self.board, run_dir=self.run_dir, boot_timeout_s=self.boot_timeout_s,
                            probe=probe, target_type=target_type, port=link_url(serial[0]),
                            baud=self.baud or int(serial[0].params.get("speed", 115200)), verify=self.verify,
                            lock_dir=self.run_dir)
        inner.describe = self.describe  # errors name the place, not the probe's address
        if probe.startswith("qemu:"):
            from harness.farm.gdbstub import settle_gdbstub
            settle_gdbstub(probes[0].params["address"], int(probes[0].params["port"]))
        return inner

    def connect(self, timeout_s: float | None = None) -> DeviceClient:
        if self._inner is None:
            raise TargetError("not running; call start(image) first", target=self.describe())
        return self._inner.connect(timeout_s)

    def reset_device(self, timeout_s: float | None = None) -> DeviceClient:
        if self._inner is None:
            raise TargetError("not started; nothing to reset", target=self.describe())
        self.resets += 1
        return self._inner.reset_device(timeout_s)

    def _stop_backend(self) -> None:
        inner, self._inner = self._inner, None
        try:
            if inner is not None:
                inner.stop()
        finally:
            self._release()

    def _release(self) -> None:
        place = self.place if self._held else None
        self._held = False
        token, self._token = self._token, None
        try:
            if place is not None:
                self.client.release(place)
        except FarmError as e:  # the coordinator is gone: nothing holds the place any more either
            log.warning("releasing place %s failed: %s", place, e)
        finally:
            if token is not None:
                try:
                    self.client.cancel_reservation(token)
                except FarmError as e:
                    log.warning("cancelling reservation %s failed: %s", token, e)
