"""Device faults: a device that stops answering during a window is reset through its target, told
again what it had been told, and the window retried once; a second failure records that window as
a DEVICE FAULT (not a model fault) and the stream goes on after another reset.

    from harness.device.deployed import DeployedPipeline
    from harness.device.recovery import DeviceRecovery, infer_windows_recovering
    pipeline = DeployedPipeline(model_bytes, fold, timeout_s=10)
    recovery = DeviceRecovery(device, pipeline)   # redeploys it after each reset
    run = infer_windows_recovering(recovery, counts, timeout_s=10)   # deploys it first
    run.result           # InferenceResult of every window (zeros where faulted)
    run.faulted          # (n,) bool: windows recorded as DEVICE FAULT
    run.events           # FaultEvent per fault: window, kind, error, recovered, reset_s

``on_windows(first_index, InferenceResult)`` is told each window's result as its reply arrives
(the stream stays pipelined) and ``on_fault(FaultEvent)`` each fault once its retry is decided:
a journal (harness.suite.journal) keeps what was measured even if the host is killed.

What counts as a device fault (``fault_kind``, read from the error's ``kind``, harness/errors.py):
no reply within the window's deadline (DeviceTimeoutError), a HardFault report (DeviceFaultError), a
BOOT in the middle of a request (DeviceRebootedError) and a link that broke (LinkError "link lost"
from the transport). An ERROR reply is the device refusing an input (DeviceError: it keeps serving;
not retried), a bad frame or reply is the codec's or the protocol's (FrameError, ProtocolError), a
differing input code is a PipelineMismatchError (harness/firmware); none is a device fault. The
mirror check runs once, over the windows measured; its PipelineMismatchError names windows of the
whole stream and carries the RecoveredRun as ``recovered``.

When the device cannot be brought back (the reset itself fails: probe lost, emulator gone) or
``max_consecutive_faults`` windows in a row fault, DeviceLostError ends the stream; its ``run``
holds every window measured before it, with the faults so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from harness.device.deployed import DeployedPipeline
from harness.device.pipeline import ModelInfo, check_mirror, infer_windows, raw_windows
from harness.device.preprocess import as_fold
from harness.device.stream import DEFAULT_DEPTH, DEFAULT_TIMEOUT_S, InferenceResult
from harness.errors import (DeviceFaultError, DeviceLostError, DeviceRebootedError, DeviceTimeoutError,
                            HarnessError, LinkError, PipelineMismatchError, StreamError)
from harness.link.protocol import FaultMode

HANG, HARDFAULT, REBOOT, LINK = (DeviceTimeoutError.kind, DeviceFaultError.kind, DeviceRebootedError.kind,
                                 LinkError.kind)
DEVICE_FAULT_KINDS = frozenset({HANG, HARDFAULT, REBOOT, LINK})
DEFAULT_MAX_CONSECUTIVE_FAULTS = 3


def fault_kind(error: BaseException | None) -> str | None:
    """The kind of device fault ``error`` is (its ``kind``), or None when it is not one (a refusal,
    a bad frame or reply, a harness error)."""
    kind = getattr(error, "kind", None)
    return kind if kind in DEVICE_FAULT_KINDS else None


@dataclass(frozen=True)
class FaultEvent:
    """One window the device failed: ``recovered`` when the retry after the reset answered."""

    window: int
    kind: str
    error: str
    recovered: bool
    reset_s: float          # reset + prepare, seconds (all resets for this window)
    retry_error: str = ""   # why the retry failed (empty when recovered)

    def to_dict(self) -> dict:
        return {"window": self.window, "kind": self.kind, "error": self.error, "recovered": self.recovered,
                "reset_s": round(self.reset_s, 3), "retry_error": self.retry_error}


@dataclass(frozen=True)
class FaultInjection:
    """Test the fault path on a bench (FAULT_ARM, test-only firmware request): the request for
    ``window`` fails as ``mode`` says; ``persistent``: its retry fails too (re-armed after the
    reset), so the window is recorded as a DEVICE FAULT. Parsed from ``MODE@WINDOW[:persistent]``
    by :func:`parse_injection` (with a scenario: ``MODE@SCENARIO:WINDOW[:persistent]``)."""

    mode: FaultMode
    window: int
    persistent: bool = False
    scenario: str = ""


def parse_injection(text: str) -> FaultInjection | None:
    """``hang@mixed:5``, ``crash@normal:0:persistent``, ``hang@3`` -> FaultInjection; '' -> None."""
    from harness.errors import ConfigError
    text = (text or "").strip()
    if not text:
        return None
    mode_text, _, where = text.partition("@")
    parts = where.split(":")
    persistent = parts[-1] == "persistent"
    if persistent:
        parts = parts[:-1]
    try:
        mode = FaultMode[mode_text.strip().upper()]
        if mode == FaultMode.DISARM or len(parts) not in (1, 2):
            raise KeyError(mode_text)
        window = int(parts[-1])
    except (KeyError, ValueError):
        raise ConfigError(f"fault injection '{text}': expected MODE@[SCENARIO:]WINDOW[:persistent] with MODE "
                          "hang or crash, e.g. hang@mixed:5") from None
    if window < 0:
        raise ConfigError(f"fault injection '{text}': window must be >= 0")
    return FaultInjection(mode, window, persistent, parts[0] if len(parts) == 2 else "")


@dataclass
class RecoveredRun:
    result: InferenceResult
    faulted: np.ndarray                      # (n,) bool
    events: list[FaultEvent] = field(default_factory=list)

    @property
    def device_faults(self) -> list[FaultEvent]:
        return [e for e in self.events if not e.recovered]


class DeviceRecovery:
    """Brings a RunningDevice back: ``target.reset_device()`` (QEMU restarts, pyOCD resets through
    the probe, Renode ``machine Reset``), then ``pipeline.redeploy(client)`` tells the device again
    what the run had told it (model, preprocessing). infer_windows_recovering deploys ``pipeline``
    on ``device.client`` first unless it already is (``ensure_deployed``)."""

    def __init__(self, device, pipeline: DeployedPipeline, *,
                 max_consecutive_faults: int = DEFAULT_MAX_CONSECUTIVE_FAULTS,
                 boot_timeout_s: float | None = None):
        self.device = device
        self.pipeline = pipeline
        self.max_consecutive_faults = max_consecutive_faults
        self.boot_timeout_s = boot_timeout_s
        self.resets = 0

    @property
    def model_info(self) -> ModelInfo | None:
        """The device's ModelInfo as last deployed."""
        return self.pipeline.model

    @property
    def client(self):
        return self.device.client

    def ensure_deployed(self) -> ModelInfo:
        """The pipeline on the device's current client (deployed now unless it already is)."""
        if self.pipeline.client is not self.client or self.pipeline.model is None:
            return self.pipeline.deploy(self.client)
        return self.pipeline.model

    def reset_and_redeploy(self) -> ModelInfo:
        """Reset the device through its target, then redeploy the pipeline; TargetError/LinkError
        etc. propagate (the caller makes it DeviceLostError)."""
        self.resets += 1
        client = self.device.reset_device(self.boot_timeout_s)
        return self.pipeline.redeploy(client)


class _Buffers:
    def __init__(self, n: int, model: ModelInfo, unit: str):
        self.codes = np.zeros((n,) + model.input.shape, dtype=model.input.dtype)
        self.outputs = np.zeros((n,) + model.output.shape, dtype=model.output.dtype)
        self.cost = np.zeros(n, dtype=np.uint32)
        self.faulted = np.zeros(n, dtype=bool)
        self.unit = unit

    def put(self, at: int, result: InferenceResult) -> None:
        k = len(result)
        self.codes[at:at + k] = result.input_codes
        self.outputs[at:at + k] = result.outputs
        self.cost[at:at + k] = result.cost
        self.unit = result.cost_unit or self.unit

    def run(self, upto: int, events: list) -> RecoveredRun:
        return RecoveredRun(InferenceResult(self.codes[:upto].copy(), self.outputs[:upto].copy(),
                                            self.cost[:upto].copy(), self.unit), self.faulted[:upto].copy(), list(events))


def infer_windows_recovering(recovery: DeviceRecovery, raw_counts, *, model: ModelInfo | None = None, mirror=True,
                             depth: int = DEFAULT_DEPTH, exclusive: bool | None = None,
                             timeout_s: float = DEFAULT_TIMEOUT_S,
                             inject: FaultInjection | None = None,
                             on_windows: Callable[[int, InferenceResult], None] | None = None,
                             on_fault: Callable[[FaultEvent], None] | None = None) -> RecoveredRun:
    """harness.device.infer_windows over a device that may stop answering (module docstring).

    ``model``: the device's ModelInfo (None: the pipeline's, as deployed). ``mirror``: True checks
    the device's input codes against the fold the pipeline sent (none when the firmware runs its own
    preprocessing), a fold or export against that one, False not at all; the check runs on every
    window that was measured.
    Errors that are not device faults propagate as StreamError whose ``run`` is the RecoveredRun
    of the windows before the failing one (``results`` its InferenceResult).
    """
    deployed = recovery.ensure_deployed()
    model = model if model is not None else deployed
    counts = raw_windows(raw_counts)
    n = len(counts)
    client = recovery.client
    unit = client.boot_info.cost_unit if client.boot_info else ""
    buffers = _Buffers(n, model, unit)
    events: list[FaultEvent] = []
    consecutive = 0
    start = 0

    def stream(first: int, count: int | None = None) -> InferenceResult:
        stop = n if count is None else first + count
        told = None if on_windows is None else (lambda k, result: on_windows(first + k, result))
        return infer_windows(recovery.client, counts[first:stop], model=model, depth=depth, exclusive=exclusive,
                             timeout_s=timeout_s, on_window=told)

    def record(event: FaultEvent) -> None:
        events.append(event)
        if on_fault is not None:
            on_fault(event)

    def timed_reset_and_redeploy(window: int, error: BaseException) -> float:
        nonlocal model
        began = time.monotonic()
        try:
            model = recovery.reset_and_redeploy()
        except (HarnessError, OSError) as e:
            raise DeviceLostError(
                f"device stopped answering at window {window} ({fault_kind(error)}: {error}); resetting it "
                f"failed: {e}. {window} windows measured, kept in .run", window,
                buffers.run(window, events), e) from e
        return time.monotonic() - began

    def not_a_fault(e: StreamError, first: int) -> StreamError:
        index = first + e.failed_index
        buffers.put(first, e.results)
        run = buffers.run(index, events)
        return StreamError(f"window {index}: {e.error}", index, run.result, e.error, run)

    if inject is not None and inject.window < n:
        recovery.client.arm_fault(inject.mode, after=inject.window)
    while start < n:
        try:
            buffers.put(start, stream(start))
            break
        except StreamError as e:
            kind = fault_kind(e.error)
            if kind is None:
                raise not_a_fault(e, start) from e.error
            buffers.put(start, e.results)
            window, error = start + e.failed_index, e.error
        reset_s = timed_reset_and_redeploy(window, error)
        if inject is not None and inject.persistent and window == inject.window:
            recovery.client.arm_fault(inject.mode, after=0)
        try:
            buffers.put(window, stream(window, 1))
            record(FaultEvent(window, kind, str(error), True, reset_s))
            consecutive = 0
        except StreamError as retry:
            if fault_kind(retry.error) is None:
                raise not_a_fault(retry, window) from retry.error
            buffers.faulted[window] = True
            reset_s += timed_reset_and_redeploy(window, retry.error)
            record(FaultEvent(window, kind, str(error), False, reset_s, str(retry.error)))
            consecutive += 1
            if consecutive >= recovery.max_consecutive_faults:
                raise DeviceLostError(
                    f"{consecutive} windows in a row ({window - consecutive + 1}..{window}) failed on the device "
                    f"even after a reset and a retry: the device cannot serve this stream; last: {retry.error}. "
                    f"{window + 1} windows kept in .run", window, buffers.run(window + 1, events), retry.error)
        start = window + 1

    run = buffers.run(n, events)
    fold = recovery.pipeline.fold_sent if mirror is True else (as_fold(mirror) if mirror else None)
    if fold is not None:
        measured = np.flatnonzero(~run.faulted)
        try:
            check_mirror(_subset(run.result, measured), counts[measured], fold, window_numbers=measured)
        except PipelineMismatchError as e:   # every result kept, faulted windows marked
            raise PipelineMismatchError(str(e), run.result, e.mismatches, e.count, recovered=run) from e
    return run


def _subset(result: InferenceResult, mask: np.ndarray) -> InferenceResult:
    return InferenceResult(result.input_codes[mask], result.outputs[mask], result.cost[mask], result.cost_unit)
