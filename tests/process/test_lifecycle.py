"""The process module's lifecycle pieces (LoggedChild, new_run_dir, connect_when_listening) and
ProcessTarget's start template, with real child processes and real sockets."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import pytest

from harness.deadline import Deadline
from harness.errors import ConfigError, TargetError
from harness.process import LoggedChild, connect_when_listening, live_pids, new_run_dir
from harness.targets.base import ProcessTarget

SLEEP = shutil.which("sleep") or "/bin/sleep"


def test_logged_child_logs_its_command_then_its_output(tmp_path):
    log = tmp_path / "child.log"
    child = LoggedChild([sys.executable, "-c", "print('hello from the child')"], log)
    assert child.wait_exit(10)
    assert child.stop() == 0
    lines = log.read_text().splitlines()
    assert lines[0] == f"$ {sys.executable} -c print('hello from the child')"
    assert lines[1] == "hello from the child"
    assert child.tail().endswith("hello from the child")
    again = LoggedChild([sys.executable, "-c", "print('second')"], log, append=True)
    assert again.wait_exit(10) and again.stop() == 0
    assert log.read_text().splitlines()[1:] == ["hello from the child", f"$ {sys.executable} -c print('second')",
                                                "second"]


def test_logged_child_stop_ends_it_and_is_idempotent(tmp_path):
    child = LoggedChild([SLEEP, "60"], tmp_path / "sleep.log", cwd=tmp_path)
    assert child.is_running and child.pid in live_pids()
    assert child.name == "sleep"
    status = child.stop(timeout_s=5)
    assert status is not None and status < 0          # ended by a signal, not by itself
    assert not child.is_running and child.pid not in live_pids()
    assert child.stop() == status


def test_a_command_that_cannot_start_closes_its_log(tmp_path):
    with pytest.raises(OSError):
        LoggedChild([str(tmp_path / "no-such-program")], tmp_path / "x.log")
    assert (tmp_path / "x.log").read_text().startswith("$ ")


def test_new_run_dir_names_kind_pid_and_a_counter(tmp_path):
    first, second = new_run_dir("qemu", None, tmp_path), new_run_dir("qemu", None, tmp_path)
    assert first.is_dir() and second.is_dir() and first != second
    assert first.parent == tmp_path and first.name.startswith("qemu-")
    assert new_run_dir("qemu", tmp_path / "mine", tmp_path) == tmp_path / "mine"


def test_connect_when_listening_retries_until_the_port_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener = socket.socket()
    attempts = []

    def alive() -> bool:          # called after each refused attempt: the "child" binds after the first
        attempts.append(1)
        if len(attempts) == 1:
            listener.bind(("127.0.0.1", port))
            listener.listen(1)
        return True

    try:
        sock = connect_when_listening("127.0.0.1", port, Deadline(5), alive=alive)
        with sock:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert len(attempts) == 1
    finally:
        listener.close()


def test_connect_when_listening_gives_up_when_the_child_is_gone():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        connect_when_listening("127.0.0.1", port, Deadline(5), alive=lambda: False)


class SleepTarget(ProcessTarget):
    """A ProcessTarget running ``sleep``: the template's steps, with the readiness a test chooses."""

    name = "sleep"

    def __init__(self, ready, **options):
        super().__init__(**options)
        self.ready = ready

    def _check_board(self, board: str) -> None:
        if board == "no-such-board":
            raise ConfigError(f"sleep has no board '{board}'")

    def _executable(self) -> str:
        return SLEEP

    def _command(self, executable: str, elf: Path, run_dir: Path) -> list[str]:
        (run_dir / "made-by-the-command-hook").write_text(str(elf))
        return [executable, "60"]

    def _wait_ready(self) -> str:
        return self.ready(self)


def test_process_target_start_runs_the_hooks_in_order(tmp_path):
    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"\x7fELF")
    with SleepTarget(lambda target: "loop://", run_dir=tmp_path / "run") as target:
        assert target.start(elf) == "loop://" and target.url == "loop://"
        assert target.board == "netduinoplus2"                     # the default board
        assert (tmp_path / "run" / "made-by-the-command-hook").read_text() == str(elf)
        assert target.log_path == tmp_path / "run" / "sleep.log"
        assert target.log_path.read_text().startswith(f"$ {SLEEP} 60")
        assert target.is_running and target.pid in live_pids()
        with pytest.raises(TargetError, match="already started"):
            target.start(elf)
        pid = target.pid
    assert not target.is_running and target.url is None and pid not in live_pids()


def test_process_target_stops_the_child_when_readiness_fails(tmp_path):
    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"\x7fELF")
    seen = {}

    def fail(target):
        seen["pid"] = target.pid
        raise TargetError("never ready", target=target.describe())

    target = SleepTarget(fail, run_dir=tmp_path)
    with pytest.raises(TargetError, match="never ready"):
        target.start(elf)
    assert seen["pid"] is not None and seen["pid"] not in live_pids()
    assert not target.is_running and target.pid is None


def test_process_target_checks_the_board_before_it_starts_anything(tmp_path):
    class Image:
        elf = tmp_path / "fw.elf"
        board = "no-such-board"

    Image.elf.write_bytes(b"\x7fELF")
    with pytest.raises(ConfigError, match="no board 'no-such-board'"):
        SleepTarget(lambda target: "loop://", board="no-such-board")
    target = SleepTarget(lambda target: "loop://", run_dir=tmp_path / "run")
    with pytest.raises(ConfigError, match="no board 'no-such-board'"):
        target.start(Image())
    assert not (tmp_path / "run").exists() and target.pid is None
