"""Pipelined inference requests (docs/protocol.md, "Pipeline"): ``depth`` requests are on the
link at once, so the device's RX ring holds window k+1 while it computes window k. An ERROR reply
(or any other error) stops the stream with StreamError, whose ``results`` hold every result
received before the failing window; the requests already sent after a refused one are drained so
the client is left clean.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from harness.errors import ConfigError, DeviceError, HarnessError, ProtocolError, StreamError
from harness.link.client import DeviceClient
from harness.link.protocol import MsgType

DEFAULT_DEPTH = 2
DEFAULT_TIMEOUT_S = 10.0
INFER_REPLY = struct.Struct("<IHH")                # cost input_len output_len


@dataclass
class InferenceResult:
    """Per window: the input tensor the device fed the model, its output tensor and the cost
    (board_cost_counter delta around invoke: instructions under QEMU -icount, DWT cycles on
    silicon; INFO COST_UNIT says which)."""

    input_codes: np.ndarray
    outputs: np.ndarray
    cost: np.ndarray
    cost_unit: str = ""

    def __len__(self) -> int:
        return len(self.cost)


def _parse_reply(payload: bytes, model) -> tuple[np.ndarray, np.ndarray, int]:
    if len(payload) < INFER_REPLY.size:
        raise ProtocolError(f"inference reply of {len(payload)} bytes")
    cost, in_len, out_len = INFER_REPLY.unpack_from(payload)
    if (in_len, out_len) != (model.input.nbytes, model.output.nbytes) or \
            len(payload) != INFER_REPLY.size + in_len + out_len:
        raise ProtocolError(f"inference reply carries {in_len}+{out_len} bytes in {len(payload)}; the model "
                            f"has {model.input.nbytes} input and {model.output.nbytes} output bytes")
    at = INFER_REPLY.size
    codes = np.frombuffer(payload, model.input.dtype, model.input.elements, at).reshape(model.input.shape)
    outputs = np.frombuffer(payload, model.output.dtype, model.output.elements, at + in_len)
    return codes, outputs.reshape(model.output.shape), cost


def _stream(client: DeviceClient, msg_type: int, payloads: Iterable[bytes], depth: int,
            timeout_s: float) -> Iterator[tuple[int, bytes]]:
    """Yields (index, reply payload) in order with up to ``depth`` requests on the link.

    On an error reply for window i the requests already sent after it are drained (the device
    answers each) so the client is left clean, then the error propagates with the index."""
    if depth < 1:
        raise ConfigError(f"pipeline depth must be >= 1, got {depth}")
    in_flight: deque[tuple[int, int]] = deque()
    source = iter(enumerate(payloads))
    exhausted = False
    while True:
        while not exhausted and len(in_flight) < depth:
            item = next(source, None)
            if item is None:
                exhausted = True
                break
            index, payload = item
            in_flight.append((index, client.send(msg_type, payload)))
        if not in_flight:
            return
        index, seq = in_flight.popleft()
        try:
            frame = client.wait_reply(seq, msg_type, timeout_s)
        except DeviceError as e:
            _drain(client, msg_type, in_flight, timeout_s)
            raise _IndexedError(index, e) from e
        except HarnessError as e:
            raise _IndexedError(index, e) from e
        yield index, frame.payload


def _drain(client: DeviceClient, msg_type: int, in_flight, timeout_s: float) -> None:
    while in_flight:
        _, seq = in_flight.popleft()
        try:
            client.wait_reply(seq, msg_type, timeout_s)
        except DeviceError:
            pass  # this later window's own refusal; the first error is the one reported


class _IndexedError(Exception):
    def __init__(self, index: int, error: BaseException):
        self.index = index
        self.error = error


def run_stream(client: DeviceClient, msg_type: int, payloads: Iterable[bytes], model,
               depth: int = DEFAULT_DEPTH, timeout_s: float = DEFAULT_TIMEOUT_S,
               on_result: Callable[[int, InferenceResult], None] | None = None) -> InferenceResult:
    """Pipelined INFER_WINDOW / INFER_CODES requests with payloads as given (encoded by
    harness.device.pipeline; tests send malformed ones). ``on_result(k, result of window k)`` is
    told each window as its reply arrives; ``model`` is the device's ModelInfo (harness.device.pipeline).
    StreamError keeps the results before a failed request."""
    payloads = list(payloads)
    n = len(payloads)
    codes = np.zeros((n,) + model.input.shape, dtype=model.input.dtype)
    outputs = np.zeros((n,) + model.output.shape, dtype=model.output.dtype)
    cost = np.zeros(n, dtype=np.uint32)
    unit = client.boot_info.cost_unit if client.boot_info else ""
    done = 0
    try:
        for index, payload in _stream(client, msg_type, payloads, depth, timeout_s):
            codes[index], outputs[index], cost[index] = _parse_reply(payload, model)
            done = index + 1
            if on_result is not None:
                on_result(index, InferenceResult(codes[index:done].copy(), outputs[index:done].copy(),
                                                 cost[index:done].copy(), unit))
    except _IndexedError as e:
        partial = InferenceResult(codes[:done].copy(), outputs[:done].copy(), cost[:done].copy(), unit)
        name = MsgType(msg_type).name
        raise StreamError(f"{name} stopped at window {e.index} of {n} ({done} results kept in .results): "
                          f"{e.error}", e.index, partial, e.error) from e.error
    return InferenceResult(codes, outputs, cost, unit)
