"""Every op's output tensor of one inference: from the device (INFER_LAYERS) or from the host.

    dump = infer_layers(client, input_codes)         # the device, portable engine, op by op
    dump[k].values, dump[k].cost, dump.total_cost

INFER_LAYERS (docs/protocol.md, "INFER_LAYERS") carries the input tensor like INFER_CODES; the
device runs the model one op at a time and, after each op, sends that op's output tensor as one
or more reply frames of the request's seq, each with a 24-byte chunk header (frame number,
LAST flag, op index, op count, op code, tensor index, the op's cost, offset and CRC-32 of the
chunk's bytes) and the tensor description of MODEL_INFO. The host checks the frame numbers,
the order, the offsets and every chunk's CRC; a chunk that fails is not a model fault: the rest
of the stream is read (the link stays in step) and the request is sent again.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from harness.errors import ConfigError, ProtocolError
from harness.link.frame import crc32
from harness.link.protocol import Capability, MsgType
from harness.models.inspect import op_name

LAYER_CHUNK = struct.Struct("<HBBHHHHIII")  # frame flags _ op_index n_ops op_code tensor_index cost offset crc32
TENSOR_DESC = struct.Struct("<BBH6ifiI")    # dtype rank _ dims scale zero_point bytes (as MODEL_INFO)
INFER_LAYERS_HEADER = struct.Struct("<B3x")  # flags, as INFER_CODES
FLAG_LAST = 0x01
FLAG_EXCLUSIVE = 0x01
DTYPES = {0: np.dtype("<f4"), 2: np.dtype("<i4"), 7: np.dtype("<i2"), 9: np.dtype(np.int8)}
DEFAULT_TIMEOUT_S = 10.0


class LayerTransferError(ProtocolError):
    """An INFER_LAYERS chunk that does not fit the stream (CRC, order, offset, description)."""


@dataclass(frozen=True)
class LayerTensor:
    """The output tensor of op ``op_index`` (``tensor_index`` in the model's graph)."""

    op_index: int
    op_code: int
    tensor_index: int
    values: np.ndarray
    scale: float | None        # None: not quantized (float32)
    zero_point: int | None
    cost: int | None = None    # the op's cost on the device (instructions or cycles); None on the host

    @property
    def op_name(self) -> str:
        return op_name(self.op_code)

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    def dequantized(self) -> np.ndarray:
        """float64 values: (code - zero_point) * scale, or the float tensor itself."""
        if self.scale is None or self.values.dtype.kind == "f":
            return self.values.astype(np.float64)
        return (self.values.astype(np.float64) - float(self.zero_point)) * float(self.scale)


@dataclass
class LayerDump:
    """Every op's output of one inference, in op order (``dump[k]`` is op k's)."""

    layers: list[LayerTensor]
    source: str                          # "device", "host int8" or "host float"
    cost_unit: str = ""
    input_values: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, op_index: int) -> LayerTensor:
        return self.layers[op_index]

    def __iter__(self):
        return iter(self.layers)

    @property
    def total_cost(self) -> int | None:
        costs = [layer.cost for layer in self.layers]
        return None if any(c is None for c in costs) else int(sum(costs))


def _tensor_desc(raw: bytes):
    dtype, rank, _, *rest = TENSOR_DESC.unpack(raw)
    dims, (scale, zero_point, nbytes) = rest[:6], rest[6:]
    return dtype, tuple(int(d) for d in dims[:rank]), float(scale), int(zero_point), int(nbytes)


class _Assembler:
    """Puts the chunks of one stream back into tensors, checking each against the last."""

    def __init__(self):
        self.layers: list[LayerTensor] = []
        self.frame = 0
        self.n_ops: int | None = None
        self.current: dict | None = None
        self.error: str | None = None   # first bad chunk; the stream is read to its end anyway
        self.done = False

    def feed(self, payload: bytes) -> None:
        head = LAYER_CHUNK.size + TENSOR_DESC.size
        if len(payload) < head:
            raise LayerTransferError(f"INFER_LAYERS frame of {len(payload)} bytes, at least {head} expected")
        frame, flags, _, op_index, n_ops, code, tensor, cost, offset, crc = LAYER_CHUNK.unpack_from(payload)
        self.done = bool(flags & FLAG_LAST)
        if self.error is not None:
            return
        dtype, shape, scale, zero_point, nbytes = _tensor_desc(payload[LAYER_CHUNK.size:head])
        data = payload[head:]
        where = f"INFER_LAYERS frame {frame} (op {op_index}, offset {offset})"
        if frame != self.frame:
            self.error = f"{where}: expected frame {self.frame}"
        elif self.n_ops is not None and n_ops != self.n_ops:
            self.error = f"{where}: says {n_ops} ops, earlier frames {self.n_ops}"
        elif crc32(data) != crc:
            self.error = f"{where}: chunk CRC mismatch"
        elif dtype not in DTYPES:
            self.error = f"{where}: tensor type {dtype}; the harness knows {sorted(DTYPES)}"
        self.frame += 1
        self.n_ops = n_ops
        if self.error is not None:
            return
        cur = self.current
        if cur is None or cur["op_index"] != op_index:
            if cur is not None:
                self.error = f"{where}: op {cur['op_index']} stopped at {len(cur['data'])} of {cur['nbytes']} bytes"
                return
            if op_index != len(self.layers) or offset != 0:
                self.error = f"{where}: expected op {len(self.layers)} at offset 0"
                return
            cur = self.current = {"op_index": op_index, "code": code, "tensor": tensor, "cost": cost,
                                  "desc": (dtype, shape, scale, zero_point, nbytes), "nbytes": nbytes,
                                  "data": bytearray()}
        elif (code, tensor, cost, (dtype, shape, scale, zero_point, nbytes)) != \
                (cur["code"], cur["tensor"], cur["cost"], cur["desc"]) or offset != len(cur["data"]):
            self.error = f"{where}: differs from the op's first chunk or is out of order"
            return
        cur["data"] += data
        if len(cur["data"]) > nbytes:
            self.error = f"{where}: {len(cur['data'])} bytes for a tensor of {nbytes}"
            return
        if len(cur["data"]) == nbytes:
            np_dtype = DTYPES[dtype]
            values = np.frombuffer(bytes(cur["data"]), np_dtype).reshape(shape)
            quantized = np_dtype.kind != "f" and scale > 0
            self.layers.append(LayerTensor(op_index, code, tensor, values.astype(np_dtype.newbyteorder("=")),
                                           scale if quantized else None, zero_point if quantized else None,
                                           int(cost)))
            self.current = None
        if self.done and (self.current is not None or len(self.layers) != n_ops):
            self.error = f"{where}: the stream ended after {len(self.layers)} of {n_ops} ops"


def _exclusive(client, exclusive: bool | None) -> int:
    if exclusive is None:
        # as harness.device: masking interrupts loses nothing under an emulator's flow control
        exclusive = bool(client.boot_info and client.boot_info.cost_unit == "instructions")
    return FLAG_EXCLUSIVE if exclusive else 0


def infer_layers(client, input_codes, *, model=None, exclusive: bool | None = None, retries: int = 1,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> LayerDump:
    """One inference on the device, every op's output tensor (``LayerDump``), with each op's cost.

    ``input_codes``: one input tensor of the loaded model (its dtype; any shape of its size).
    ``model``: the device's ModelInfo if known (harness.device.model_info asks otherwise).
    A firmware without the INFER_LAYERS capability (INFO CAPABILITIES) raises ConfigError."""
    from harness.device import model_info as device_model_info
    info = client.boot_info
    if info is not None and not info.serves(Capability.INFER_LAYERS):
        raise ConfigError(f"the firmware on {client.url} does not serve INFER_LAYERS (INFO CAPABILITIES "
                          f"0x{info.capabilities:02x}): build the harness firmware with ENGINE=portable")
    model = model if model is not None else device_model_info(client, timeout_s)
    array = np.asarray(input_codes)
    if array.dtype != model.input.dtype:
        raise ConfigError(f"input tensor is {array.dtype}, the model input is {model.input.dtype}")
    if array.size != model.input.elements:
        raise ConfigError(f"input of {array.size} elements; the model input {model.input.shape} has "
                          f"{model.input.elements}")
    array = np.ascontiguousarray(array.reshape(model.input.shape), dtype=model.input.dtype.newbyteorder("<"))
    payload = INFER_LAYERS_HEADER.pack(_exclusive(client, exclusive)) + array.tobytes()
    for attempt in range(retries + 1):
        seq = client.send(MsgType.INFER_LAYERS, payload)
        stream = _Assembler()
        while not stream.done:
            stream.feed(client.wait_reply(seq, MsgType.INFER_LAYERS, timeout_s).payload)
        if stream.error is None:
            unit = client.boot_info.cost_unit if client.boot_info else ""
            return LayerDump(stream.layers, "device", unit, array.astype(model.input.dtype))
        if attempt == retries:
            raise LayerTransferError(f"{stream.error} (after {retries + 1} attempts)")
    raise AssertionError("unreachable")
