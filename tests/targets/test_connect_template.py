"""Target.connect() as a template: its hooks run in order, a failing step closes the new client,
and reset_device of a backend whose connect reboots the device closes the old clients first.
Over pyserial's ``loop://`` (a real serial object; no device, so BOOT is the hook's to fake)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import DeviceTimeoutError, LinkError, TargetError
from harness.targets.base import Target


class LoopTarget(Target):
    """A target whose link is ``loop://``; each hook records that it ran."""

    name = "loop"

    def __init__(self, *, fail_in: str | None = None, connect_reboots: bool = False, **options):
        super().__init__(**options)
        self.fail_in = fail_in
        self.connect_reboots = connect_reboots
        self.steps: list[str] = []
        self.running = False

    @property
    def url(self) -> str | None:
        return "loop://" if self.running else None

    @property
    def log_path(self) -> Path | None:
        return None

    @property
    def is_running(self) -> bool:
        return self.running

    def start(self, image) -> str:
        self.running = True
        return "loop://"

    def _stop_backend(self) -> None:
        self.running = False

    def _step(self, name: str) -> None:
        self.steps.append(name)
        if self.fail_in == name:
            raise DeviceTimeoutError(f"{name} failed", target=self.describe())

    def _before_link(self) -> None:
        self._step("before_link")

    def _let_run(self, client) -> None:
        self._step("let_run")

    def _wait_boot(self, client, timeout_s: float) -> None:
        self._step(f"wait_boot {timeout_s}")


def test_connect_runs_the_hooks_in_order_and_keeps_the_client():
    with LoopTarget(boot_timeout_s=1.5) as target:
        with pytest.raises(TargetError, match="not running"):
            target.connect()
        assert target.steps == []
        target.start("image")
        client = target.connect()
        assert target.steps == ["before_link", "let_run", "wait_boot 1.5"]
        assert client.url == "loop://" and target._clients == [client]
        target.connect(timeout_s=0.2)
        assert target.steps[-1] == "wait_boot 0.2"
    assert target._clients == []
    with pytest.raises(LinkError, match="is closed"):
        client.echo(b"x")            # stop() closed it


@pytest.mark.parametrize("step", ["let_run", "wait_boot 10.0"])
def test_a_failing_step_closes_the_new_client(step, monkeypatch):
    opened = []
    real_open = LoopTarget._open_link

    def open_link(self):
        opened.append(real_open(self))
        return opened[-1]

    monkeypatch.setattr(LoopTarget, "_open_link", open_link)
    with LoopTarget(fail_in=step) as target:
        target.start("image")
        with pytest.raises(DeviceTimeoutError, match="failed"):
            target.connect()
        assert target._clients == []
        with pytest.raises(LinkError, match="is closed"):
            opened[0].echo(b"x")


def test_reset_device_is_a_reconnect_only_where_connect_reboots():
    with LoopTarget() as plain:
        plain.start("image")
        with pytest.raises(TargetError, match="cannot reset"):
            plain.reset_device()
    with LoopTarget(connect_reboots=True) as target:
        with pytest.raises(TargetError, match="not started; nothing to reset"):
            target.reset_device()
        target.start("image")
        first = target.connect()
        second = target.reset_device(timeout_s=0.5)
        assert target.resets == 1 and target._clients == [second]
        assert target.steps[-3:] == ["before_link", "let_run", "wait_boot 0.5"]
        with pytest.raises(LinkError, match="is closed"):
            first.echo(b"x")
