"""labgrid's coordinator as the harness uses it: the ``labgrid-client`` CLI, every call bounded.

    client = LabgridClient("127.0.0.1:20408", username="alice.hil1234")
    client.acquire("p1")                  # raises PlaceBusy(holder="vm/bob") when held
    client.resources("p1")                # [PlaceResource(cls="NetworkSerialPort", params={...}), ...]
    client.release("p1")

The CLI rather than labgrid's asyncio ClientSession: a session's event loop belongs to one
thread, and the suite runs one target per thread; a subprocess per call (~0.3 s) is nothing
next to a flash and a suite. ``username`` (labgrid's ``LG_USERNAME``) makes each harness
target its own coordinator user, so two jobs of one run are two holders and a report names
who held a place.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import TargetError, ToolMissingError

DEFAULT_COORDINATOR = "127.0.0.1:20408"   # labgrid's own default
CALL_TIMEOUT_S = 20.0

# the place itself is held (not: one of its resources is unavailable)
_BUSY = re.compile(r"Place \S+ is already acquired|already acquired place|was not reserved for")
_ACQUIRED_LINE = re.compile(r"^\s*acquired:\s*(?P<holder>\S+)", re.MULTILINE)
_RESOURCE_BLOCK = re.compile(r"^Acquired resource ", re.MULTILINE)
_RESOURCE_PATH = re.compile(r"\((?P<path>[^/()\s]+/[^/()\s]+/[^/()\s]+/[^/()\s]+)\):\s*$")
_TAGS_LINE = re.compile(r"^  tags: (?P<tags>.*)$", re.MULTILINE)
_TOKEN = re.compile(r"LG_TOKEN=(?P<token>\S+)")


class FarmError(TargetError):
    """The coordinator refused or did not answer; the message carries labgrid-client's words."""


class PlaceBusy(FarmError):
    def __init__(self, place: str, holder: str | None, message: str):
        self.place = place
        self.holder = holder
        super().__init__(message, target=f"labgrid:{place}")


@dataclass(frozen=True)
class PlaceResource:
    """One resource of an acquired place, as ``labgrid-client show`` reports it."""

    exporter: str
    group: str
    cls: str
    name: str
    params: dict = field(default_factory=dict)
    available: bool = True


def labgrid_client_command() -> list[str]:
    """``labgrid-client`` beside this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name("labgrid-client")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("labgrid-client")
    if found is None:
        raise ToolMissingError("labgrid-client", "labgrid (pip install 'tinyml-hil[farm]')")
    return [found]


class LabgridClient:
    def __init__(self, coordinator: str | None = None, *, username: str | None = None,
                 call_timeout_s: float = CALL_TIMEOUT_S):
        self.coordinator = coordinator or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR
        self.username = username
        self.call_timeout_s = call_timeout_s

    def run(self, *args: str, place: str | None = None, timeout_s: float | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        cmd = labgrid_client_command() + ["-x", self.coordinator]
        if place is not None:
            cmd += ["-p", place]
        cmd += list(args)
        env = dict(os.environ)
        env.pop("LG_TOKEN", None)
        env.pop("LG_PLACE", None)
        if self.username:
            env["LG_USERNAME"] = self.username
        timeout_s = self.call_timeout_s if timeout_s is None else timeout_s
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise FarmError(f"'{' '.join(cmd[1:])}' did not answer within {timeout_s:.1f} s; is the "
                            f"coordinator at {self.coordinator} up?", target="labgrid") from e
        if check and done.returncode != 0:
            raise FarmError(f"'{' '.join(cmd[1:])}' failed ({done.returncode}): "
                            f"{(done.stderr or done.stdout).strip()[-400:]}", target="labgrid")
        return done

    # --- places --------------------------------------------------------------------------------

    def create_place(self, place: str, matches: list[str]) -> None:
        self.run("create", place=place)
        for match in matches:
            self.run("add-match", match, place=place)

    def acquire(self, place: str, *, token: str | None = None) -> None:
        """Acquire ``place`` (by reservation ``token`` when given); PlaceBusy names the holder."""
        done = self.run("acquire", place=f"+{token}" if token else place, check=False)
        if done.returncode == 0:
            return
        text = (done.stderr + done.stdout).strip()
        if _BUSY.search(text):
            raise PlaceBusy(place, self.holder(place), f"place {place} is busy: {text[-300:]}")
        # e.g. "Failed to acquire resources": the exporter is gone or its resource broken
        raise FarmError(f"acquiring place {place} failed (is its exporter up? `labgrid-client -p {place} show`): "
                        f"{text[-400:]}", target=f"labgrid:{place}")

    def release(self, place: str, *, kick: bool = False) -> None:
        self.run("release", *(["--kick"] if kick else []), place=place)

    def show(self, place: str) -> str:
        return self.run("show", place=place).stdout

    def holder(self, place: str) -> str | None:
        """``host/user`` holding ``place``, or None when free (or unknown)."""
        try:
            text = self.show(place)
        except FarmError:
            return None
        match = _ACQUIRED_LINE.search(text)
        if match is None or match.group("holder") in ("None", "-"):
            return None
        return match.group("holder")

    def tags(self, place: str) -> dict[str, str]:
        """The place's tags (``labgrid-client -p P set-tags key=value``)."""
        match = _TAGS_LINE.search(self.show(place))
        if match is None:
            return {}
        pairs = (item.split("=", 1) for item in match.group("tags").split(", ") if "=" in item)
        return {key.strip(): value.strip() for key, value in pairs}

    def resources(self, place: str) -> list[PlaceResource]:
        """The acquired place's resources with their parameters (host, port, ...), from ``show``:
        ``Acquired resource 'NAME' (EXPORTER/GROUP/CLS/NAME):`` then a Python dict literal."""
        text = self.show(place)
        found = []
        for block in _RESOURCE_BLOCK.split(text)[1:]:
            header, _, body = block.partition("\n")
            match = _RESOURCE_PATH.search(header)
            if match is None:
                continue
            exporter, group, cls, name = match.group("path").split("/")
            try:
                value = ast.literal_eval(body.strip())
            except (ValueError, SyntaxError) as e:
                raise FarmError(f"cannot read the parameters of {match.group('path')}: {body.strip()[:200]}",
                                target=f"labgrid:{place}") from e
            params = value.get("params", {}) if isinstance(value, dict) else {}
            found.append(PlaceResource(exporter, group, value.get("cls", cls), name, params,
                                       bool(value.get("avail", True))))
        return found

    # --- reservations --------------------------------------------------------------------------

    def reserve(self, place: str) -> str:
        """A reservation for ``place`` by name; returns its token (allocated when the place frees)."""
        done = self.run("reserve", "--shell", f"name={place}")
        match = _TOKEN.search(done.stdout)
        if match is None:
            raise FarmError(f"reserve printed no token: {done.stdout.strip()[-200:]}", target=f"labgrid:{place}")
        return match.group("token")

    def wait_reservation(self, token: str, timeout_s: float) -> bool:
        """True once the reservation is allocated; False when ``timeout_s`` passes first."""
        if timeout_s <= 0:
            return False
        try:
            self.run("wait", token, timeout_s=timeout_s)
        except FarmError as e:
            if isinstance(e.__cause__, subprocess.TimeoutExpired):
                return False
            raise
        return True

    def cancel_reservation(self, token: str) -> None:
        self.run("cancel-reservation", token, check=False)
