"""The on-device pipeline over a DeviceClient (docs/protocol.md, "Pipeline").

    from harness.device import load_model, set_preprocess, infer_windows
    model = load_model(client, Path("m.tflite").read_bytes())    # CRC-checked chunks
    set_preprocess(client, fold.export())                        # harness.quant.fold export
    result = infer_windows(client, counts)                       # (n, len, 3) int16 counts
    result.input_codes, result.outputs, result.cost

Every call is a plain function of the client; what the device was last told (model, fold) is
remembered per client so ``infer_windows`` can check each window's input codes against the host
mirror (``fold.codes``) without being told twice. A difference raises PipelineMismatchError: a
harness/firmware fault, never a model fault.

Streams are pipelined: ``depth`` requests are on the link at once, so the device's RX ring holds
window k+1 while it computes window k. An ERROR reply stops the stream with StreamError, whose
``results`` holds every result received before the failing window.
"""

from __future__ import annotations

import re
import struct
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

from harness.errors import (ConfigError, DeviceError, HarnessError, ModelRejectedError,
                            PipelineMismatchError, ProtocolError, StreamError)
from harness.link.client import DeviceClient
from harness.link.frame import crc32
from harness.link.protocol import MsgType

DEFAULT_DEPTH = 2
DEFAULT_TIMEOUT_S = 10.0
FLAG_EXCLUSIVE = 0x01   # interrupts masked around invoke: deterministic cost on an emulator
NEVER_REACHED = 32768   # threshold entry of a code step no int16 count reaches

KIND_AFFINE = 1
KIND_THRESHOLD = 2
KIND_AFFINE16 = 3       # affine channels to int16 codes: a 16x8 model's input (zero point 0)
PREPROCESS_HEADER = struct.Struct("<BBBBB3x")     # kind n_channels n_axes first count
AFFINE_RECORD = struct.Struct("<BBbbiqi")          # axis shift code_min code_max multiplier offset zp
AFFINE16_RECORD = struct.Struct("<BB2xhhiqi")      # axis shift code_min code_max multiplier offset zp
THRESHOLD_HEADER = struct.Struct("<BxhH2x")        # axis code_base n_thresholds
LOAD_BEGIN = struct.Struct("<II")                  # size crc32
LOAD_BEGIN_REPLY = struct.Struct("<IHH")           # model buffer, max chunk
CHUNK_HEADER = struct.Struct("<II")                # offset crc32
INFER_WINDOW_HEADER = struct.Struct("<BBH")        # flags n_axes n_samples
INFER_CODES_HEADER = struct.Struct("<B3x")         # flags
INFER_REPLY = struct.Struct("<IHH")                # cost input_len output_len
MODEL_DESC = struct.Struct("<IIIIBBBx")            # crc size arena_used arena_size source n_in n_out
TENSOR_DESC = struct.Struct("<BBH6ifiI")           # dtype rank _ dims scale zero_point bytes

# TFLite TensorType -> the codes' type on the wire (little-endian); 7: a 16x8 model's int16 tensors
DTYPES = {0: np.dtype("<f4"), 2: np.dtype("<i4"), 7: np.dtype("<i2"), 9: np.dtype(np.int8)}
SOURCES = {0: "none", 1: "linked", 2: "uploaded"}


@dataclass(frozen=True)
class TensorSpec:
    dtype: np.dtype
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    nbytes: int

    @property
    def channels(self) -> int:
        return self.shape[-1] if self.shape else 1

    @property
    def elements(self) -> int:
        return self.nbytes // self.dtype.itemsize


@dataclass(frozen=True)
class ModelInfo:
    """What the device says about its loaded model (LOAD_END / MODEL_INFO)."""

    crc32: int
    size: int
    arena_used: int
    arena_size: int
    source: str
    input: TensorSpec
    output: TensorSpec

    @property
    def window_len(self) -> int:
        """Samples per window: the input's elements over its channels (last dimension)."""
        return self.input.elements // self.input.channels


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

    def save_npz(self, path) -> None:
        np.savez(path, input_codes=self.input_codes, outputs=self.outputs, cost=self.cost,
                 cost_unit=np.array(self.cost_unit))


@dataclass
class _DeviceState:
    model: ModelInfo | None = None
    fold: object | None = None   # AffineFold | ThresholdFold last sent
    extra: dict = field(default_factory=dict)


_STATE: "weakref.WeakKeyDictionary[DeviceClient, _DeviceState]" = weakref.WeakKeyDictionary()


def _state(client: DeviceClient) -> _DeviceState:
    state = _STATE.get(client)
    if state is None:
        state = _STATE[client] = _DeviceState()
    return state


# --- errors -------------------------------------------------------------------------------------

_FIELD = re.compile(r"(\w+)=(-?\d+)")


def _model_rejected(e: DeviceError) -> DeviceError:
    """MODEL_REJECTED carries the engine's hil_error_t as "STATUS op=.. tensor=.. detail=.. ..."."""
    if e.code_name != "MODEL_REJECTED":
        return e
    fields: dict = {k: int(v) for k, v in _FIELD.findall(e.text)}
    head = e.text.split(" ", 1)[0] if e.text else ""
    if head and "=" not in head:
        fields["status"] = head
    return ModelRejectedError(e.code, e.code_name, e.detail, e.text, e.request, fields)


# --- model ----------------------------------------------------------------------------------------

def _tensor_spec(raw: bytes) -> TensorSpec:
    dtype, rank, _, *rest = TENSOR_DESC.unpack(raw)
    dims, (scale, zero_point, nbytes) = rest[:6], rest[6:]
    if dtype not in DTYPES:
        raise ProtocolError(f"device reports tensor type {dtype}; the harness knows {sorted(DTYPES)}")
    shape = tuple(int(d) for d in dims[:rank])
    if int(np.prod(shape, dtype=np.int64)) * DTYPES[dtype].itemsize != nbytes:
        raise ProtocolError(f"device reports a tensor of type {dtype}, shape {list(shape)} and {nbytes} bytes: "
                            f"{DTYPES[dtype].itemsize} byte(s) per element would make "
                            f"{int(np.prod(shape, dtype=np.int64)) * DTYPES[dtype].itemsize}")
    return TensorSpec(DTYPES[dtype], shape, float(scale), int(zero_point), int(nbytes))


def parse_model_info(payload: bytes) -> ModelInfo:
    expected = MODEL_DESC.size + 2 * TENSOR_DESC.size
    if len(payload) != expected:
        raise ProtocolError(f"model description of {len(payload)} bytes, expected {expected}")
    crc, size, used, arena, source, _n_in, _n_out = MODEL_DESC.unpack_from(payload)
    at = MODEL_DESC.size
    return ModelInfo(crc, size, used, arena, SOURCES.get(source, str(source)),
                     _tensor_spec(payload[at:at + TENSOR_DESC.size]),
                     _tensor_spec(payload[at + TENSOR_DESC.size:]))


def model_info(client: DeviceClient, timeout_s: float = DEFAULT_TIMEOUT_S) -> ModelInfo:
    """The device's loaded model (BAD_STATE DeviceError if none)."""
    info = parse_model_info(client.request(MsgType.MODEL_INFO, b"", timeout_s).payload)
    _state(client).model = info
    return info


def load_model(client: DeviceClient, model_bytes: bytes, *, chunk_size: int | None = None,
               timeout_s: float = DEFAULT_TIMEOUT_S) -> ModelInfo:
    """Upload ``model_bytes`` in CRC-checked chunks and load it into the device's arena.

    Raises DeviceError TOO_LARGE (bigger than the model buffer), ModelRejectedError (the engine's
    status and hil_error_t fields, e.g. UNSUPPORTED_OP), BAD_MODEL_CRC.
    """
    model_bytes = bytes(model_bytes)
    state = _state(client)
    state.model = None  # LOAD_BEGIN drops the device's model whatever happens next
    reply = client.request(MsgType.LOAD_BEGIN, LOAD_BEGIN.pack(len(model_bytes), crc32(model_bytes)),
                           timeout_s).payload
    _buffer, max_chunk, _ = LOAD_BEGIN_REPLY.unpack(reply)
    chunk = min(chunk_size or max_chunk, max_chunk)
    if chunk < 1:
        raise ConfigError(f"chunk size {chunk_size} must be >= 1")
    for offset in range(0, len(model_bytes), chunk):
        data = model_bytes[offset:offset + chunk]
        received, = struct.unpack("<I", client.request(
            MsgType.LOAD_CHUNK, CHUNK_HEADER.pack(offset, crc32(data)) + data, timeout_s).payload)
        if received != offset + len(data):
            raise ProtocolError(f"device acknowledged {received} model bytes, expected {offset + len(data)}")
    try:
        info = parse_model_info(client.request(MsgType.LOAD_END, b"", timeout_s).payload)
    except DeviceError as e:
        raise _model_rejected(e) from e
    if info.crc32 != crc32(model_bytes) or info.size != len(model_bytes):
        raise ProtocolError(f"device loaded a model of {info.size} bytes, CRC {info.crc32:08x}; "
                            f"sent {len(model_bytes)} bytes, CRC {crc32(model_bytes):08x}")
    state.model = info
    return info


# --- preprocessing -------------------------------------------------------------------------------

def as_fold(fold_or_export):
    """An AffineFold/ThresholdFold from a fold, its export, or a scaler export with "fixed_point"."""
    from harness.quant.fold import AffineFold, ThresholdFold, fold_from_export
    if isinstance(fold_or_export, (AffineFold, ThresholdFold)):
        return fold_or_export
    if isinstance(fold_or_export, dict):
        if fold_or_export.get("kind") in ("affine", "threshold"):
            return fold_from_export(fold_or_export)
        if "fixed_point" in fold_or_export:
            return fold_from_export(fold_or_export["fixed_point"])
        raise ConfigError("a scaler export needs its fixed-point form: export it with the model's input "
                          "quantization and the sensor's counts_per_g (harness.quant.fold.export_with_fixed_point)")
    raise ConfigError(f"expected a fold or its export, got {type(fold_or_export).__name__}")


def _records(fold) -> tuple[int, list[bytes]]:
    if fold.kind == "affine" and getattr(fold, "code_bits", 8) == 16:
        return KIND_AFFINE16, [
            AFFINE16_RECORD.pack(int(axis), int(shift), int(lo), int(hi), int(mult), int(off), int(fold.zero_point))
            for axis, mult, off, shift, lo, hi in zip(fold.source_axis, fold.multiplier, fold.offset,
                                                      fold.shift, fold.code_min, fold.code_max)]
    if fold.kind == "affine":
        return KIND_AFFINE, [
            AFFINE_RECORD.pack(int(axis), int(shift), int(lo), int(hi), int(mult), int(off), int(fold.zero_point))
            for axis, mult, off, shift, lo, hi in zip(fold.source_axis, fold.multiplier, fold.offset,
                                                      fold.shift, fold.code_min, fold.code_max)]
    records = []
    for axis, row in zip(fold.source_axis, fold.thresholds):
        reached = [int(t) for t in row if int(t) < NEVER_REACHED]  # ascending: the rest never count
        records.append(THRESHOLD_HEADER.pack(int(axis), int(fold.code_base), len(reached)) +
                       struct.pack(f"<{len(reached)}i", *reached))
    return KIND_THRESHOLD, records


def encode_preprocess(fold, max_payload: int) -> list[bytes]:
    """SET_PREPROCESS payloads: as many channel records per frame as fit in ``max_payload``."""
    kind, records = _records(fold)
    n_channels, n_axes = len(records), int(fold.input_channels)
    payloads, first = [], 0
    while first < n_channels:
        count, size = 0, PREPROCESS_HEADER.size
        while first + count < n_channels and (count == 0 or size + len(records[first + count]) <= max_payload):
            size += len(records[first + count])
            count += 1
        payloads.append(PREPROCESS_HEADER.pack(kind, n_channels, n_axes, first, count) +
                        b"".join(records[first:first + count]))
        first += count
    return payloads


def set_preprocess(client: DeviceClient, fold_export, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """Configure the device's preprocessing (affine or threshold fold, any channel count).

    The device validates it (zero range, shift range, channel count vs the model input) and
    answers BAD_PREPROCESS naming the channel and the problem; it then has no preprocessing.
    """
    fold = as_fold(fold_export)
    state = _state(client)
    state.fold = None
    max_payload = client.boot_info.max_payload if client.boot_info else 2048
    for payload in encode_preprocess(fold, max_payload):
        client.request(MsgType.SET_PREPROCESS, payload, timeout_s)
    state.fold = fold


# --- inference ----------------------------------------------------------------------------------

def _exclusive_flag(client: DeviceClient, exclusive: bool | None) -> int:
    if exclusive is None:
        # emulators have lossless flow control, so masking interrupts there loses nothing and
        # makes the instruction count exact; a real UART would drop bytes that arrive meanwhile
        exclusive = bool(client.boot_info and client.boot_info.cost_unit == "instructions")
    return FLAG_EXCLUSIVE if exclusive else 0


def _parse_reply(payload: bytes, model: ModelInfo) -> tuple[np.ndarray, np.ndarray, int]:
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


def run_stream(client: DeviceClient, msg_type: int, payloads: list[bytes], model: ModelInfo,
               depth: int = DEFAULT_DEPTH, timeout_s: float = DEFAULT_TIMEOUT_S) -> InferenceResult:
    """Pipelined INFER_WINDOW / INFER_CODES requests with payloads as given (encoded by the callers
    below; tests send malformed ones). StreamError keeps the results before a refused request."""
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
    except _IndexedError as e:
        partial = InferenceResult(codes[:done].copy(), outputs[:done].copy(), cost[:done].copy(), unit)
        name = MsgType(msg_type).name
        raise StreamError(f"{name} stopped at window {e.index} of {n} ({done} results kept in .results): "
                          f"{e.error}", e.index, partial, e.error) from e.error
    return InferenceResult(codes, outputs, cost, unit)


def _model(client: DeviceClient, model: ModelInfo | None, timeout_s: float) -> ModelInfo:
    if model is not None:
        return model
    known = _state(client).model
    return known if known is not None else model_info(client, timeout_s)


def _counts(raw_counts, model: ModelInfo) -> np.ndarray:
    array = np.asarray(raw_counts)
    if not np.issubdtype(array.dtype, np.integer):
        raise ConfigError(f"raw windows must be integer sensor counts, got dtype {array.dtype}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ConfigError(f"raw windows must have shape (n_windows, window_len, axes), got {array.shape}")
    if array.size and (array.min() < -32768 or array.max() > 32767):
        raise ConfigError("raw counts must fit in int16")
    return np.ascontiguousarray(array, dtype="<i2")


def infer_windows(client: DeviceClient, raw_counts, *, model: ModelInfo | None = None, mirror=True,
                  depth: int = DEFAULT_DEPTH, exclusive: bool | None = None,
                  timeout_s: float = DEFAULT_TIMEOUT_S) -> InferenceResult:
    """Raw int16 windows (n, window_len, axes) through the device's preprocessing and model.

    ``mirror``: True checks every window's input codes against the fold last sent with
    ``set_preprocess`` (a fold or export checks against that one; False skips the check) and
    raises PipelineMismatchError, holding the whole result, on any difference.
    The device checks the window length and axes itself (SHAPE_MISMATCH).
    """
    model = _model(client, model, timeout_s)
    counts = _counts(raw_counts, model)
    flags = _exclusive_flag(client, exclusive)
    n, length, axes = counts.shape
    header = INFER_WINDOW_HEADER.pack(flags, axes, length)
    payloads = [header + window.tobytes() for window in counts]
    result = run_stream(client, MsgType.INFER_WINDOW, payloads, model, depth, timeout_s)
    fold = _state(client).fold if mirror is True else (as_fold(mirror) if mirror else None)
    if fold is not None:
        check_mirror(result, counts, fold)
    return result


def infer_codes(client: DeviceClient, input_codes, *, model: ModelInfo | None = None,
                depth: int = DEFAULT_DEPTH, exclusive: bool | None = None,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> InferenceResult:
    """Input tensors (n, *input_shape) as they are, no preprocessing (any dtype the model takes)."""
    model = _model(client, model, timeout_s)
    array = np.asarray(input_codes)
    if array.dtype != model.input.dtype:
        raise ConfigError(f"input tensors are {array.dtype}, the model input is {model.input.dtype}")
    if array.size % model.input.elements:
        raise ConfigError(f"input of {array.size} elements is not a whole number of {model.input.shape} tensors")
    array = np.ascontiguousarray(array.reshape((-1,) + model.input.shape), dtype=model.input.dtype.newbyteorder("<"))
    header = INFER_CODES_HEADER.pack(_exclusive_flag(client, exclusive))
    payloads = [header + tensor.tobytes() for tensor in array]
    return run_stream(client, MsgType.INFER_CODES, payloads, model, depth, timeout_s)


def check_mirror(result: InferenceResult, raw_counts, fold, max_listed: int = 10, window_numbers=None) -> None:
    """Device input codes == host mirror (``fold.codes``), element for element, every window.
    ``window_numbers``: what to call window k in the error (default k)."""
    fold = as_fold(fold)
    n = len(result)
    host = fold.codes(np.asarray(raw_counts)[:n]).reshape(n, -1)
    device = result.input_codes.reshape(n, -1)
    if host.shape != device.shape:
        raise PipelineMismatchError(f"host mirror gives {host.shape[1]} codes per window, the device fed "
                                    f"{device.shape[1]}: preprocessing and model input disagree", result)
    differ = np.argwhere(host != device)
    if len(differ):
        name = np.arange(n) if window_numbers is None else np.asarray(window_numbers)
        listed = [(int(name[w]), int(i), int(device[w, i]), int(host[w, i])) for w, i in differ[:max_listed]]
        w, i, d, h = listed[0]
        raise PipelineMismatchError(
            f"device input codes differ from the host mirror in {len(differ)} element(s) of "
            f"{len(np.unique(differ[:, 0]))} window(s); first: window {w} element {i}: device {d}, host {h}. "
            "This is a harness/firmware fault (preprocessing), not a model fault", result, listed, len(differ))
