"""The on-device pipeline over a DeviceClient (docs/protocol.md, "Pipeline"): the model and the
inference requests; the preprocessing is harness.device.preprocess, the pipelined stream
harness.device.stream, and what a run told the device (model, fold) harness.device.deployed.

    from harness.device import load_model, set_preprocess, infer_windows
    model = load_model(client, Path("m.tflite").read_bytes())    # CRC-checked chunks
    fold = set_preprocess(client, fold.export())                 # harness.quant.fold export
    result = infer_windows(client, counts, model=model, mirror=fold)   # (n, len, 3) int16 counts
    result.input_codes, result.outputs, result.cost

Every call is a plain function of the client; nothing is remembered per client. ``mirror`` checks
each window's input codes against the host mirror (``fold.codes``); a difference raises
PipelineMismatchError: a harness/firmware fault, never a model fault. An ERROR reply stops a stream
with StreamError, whose ``results`` hold every result received before the failing window.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness.device.preprocess import as_fold
from harness.device.stream import DEFAULT_DEPTH, DEFAULT_TIMEOUT_S, InferenceResult, run_stream
from harness.errors import ConfigError, DeviceError, ModelRejectedError, PipelineMismatchError, ProtocolError
from harness.link.client import DeviceClient
from harness.link.frame import crc32
from harness.link.protocol import MsgType

FLAG_EXCLUSIVE = 0x01   # interrupts masked around invoke: deterministic cost on an emulator
LOAD_BEGIN = struct.Struct("<II")                  # size crc32
LOAD_BEGIN_REPLY = struct.Struct("<IHH")           # model buffer, max chunk
CHUNK_HEADER = struct.Struct("<II")                # offset crc32
INFER_WINDOW_HEADER = struct.Struct("<BBH")        # flags n_axes n_samples
INFER_CODES_HEADER = struct.Struct("<B3x")         # flags
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
    return parse_model_info(client.request(MsgType.MODEL_INFO, b"", timeout_s).payload)


def load_model(client: DeviceClient, model_bytes: bytes, *, chunk_size: int | None = None,
               timeout_s: float = DEFAULT_TIMEOUT_S) -> ModelInfo:
    """Upload ``model_bytes`` in CRC-checked chunks and load it into the device's arena.

    Raises DeviceError TOO_LARGE (bigger than the model buffer), ModelRejectedError (the engine's
    status and hil_error_t fields, e.g. UNSUPPORTED_OP), BAD_MODEL_CRC.
    """
    model_bytes = bytes(model_bytes)
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
    return info


# --- inference ----------------------------------------------------------------------------------

def _exclusive_flag(client: DeviceClient, exclusive: bool | None) -> int:
    if exclusive is None:
        # emulators have lossless flow control, so masking interrupts there loses nothing and
        # makes the instruction count exact; a real UART would drop bytes that arrive meanwhile
        exclusive = bool(client.boot_info and client.boot_info.cost_unit == "instructions")
    return FLAG_EXCLUSIVE if exclusive else 0


def raw_windows(raw_counts) -> np.ndarray:
    """Raw sensor windows as the wire carries them: (n, window_len, axes) little-endian int16."""
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


def infer_windows(client: DeviceClient, raw_counts, *, model: ModelInfo | None = None, mirror=None,
                  depth: int = DEFAULT_DEPTH, exclusive: bool | None = None,
                  timeout_s: float = DEFAULT_TIMEOUT_S,
                  on_window: Callable[[int, InferenceResult], None] | None = None) -> InferenceResult:
    """Raw int16 windows (n, window_len, axes) through the device's preprocessing and model.

    ``model``: the device's ModelInfo (None: ask the device, MODEL_INFO). ``mirror``: the fold (or
    its export) the device was sent; every window's input codes are checked against it and any
    difference raises PipelineMismatchError, holding the whole result (None/False: no check;
    DeployedPipeline.infer_windows passes the fold it deployed). ``on_window(k, result)``: told each
    window as its reply arrives. The device checks the window length and axes itself (SHAPE_MISMATCH).
    """
    if mirror is True:
        raise ConfigError("mirror=True: pass the fold the device was sent (or use DeployedPipeline.infer_windows)")
    model = model if model is not None else model_info(client, timeout_s)
    counts = raw_windows(raw_counts)
    flags = _exclusive_flag(client, exclusive)
    n, length, axes = counts.shape
    header = INFER_WINDOW_HEADER.pack(flags, axes, length)
    payloads = [header + window.tobytes() for window in counts]
    result = run_stream(client, MsgType.INFER_WINDOW, payloads, model, depth, timeout_s, on_window)
    if mirror:
        check_mirror(result, counts, mirror)
    return result


def infer_codes(client: DeviceClient, input_codes, *, model: ModelInfo | None = None,
                depth: int = DEFAULT_DEPTH, exclusive: bool | None = None,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> InferenceResult:
    """Input tensors (n, *input_shape) as they are, no preprocessing (any dtype the model takes)."""
    model = model if model is not None else model_info(client, timeout_s)
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
