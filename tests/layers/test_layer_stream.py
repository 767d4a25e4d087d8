"""The host side of INFER_LAYERS on a fake device: chunks reassembled, CRC and order checked,
a bad stream read to its end and the request sent again."""

from __future__ import annotations

import numpy as np
import pytest

from harness.device import ModelInfo, TensorSpec
from harness.layers.dump import LAYER_CHUNK, TENSOR_DESC, LayerTransferError, infer_layers
from harness.link.frame import Frame, crc32
from harness.link.protocol import MsgType

INPUT = TensorSpec(np.dtype(np.int8), (1, 4), 0.5, 0, 4)
MODEL = ModelInfo(0, 0, 0, 0, "uploaded", INPUT, TensorSpec(np.dtype(np.int8), (1, 2), 0.25, -3, 2))
LAYERS = [(3, 7, np.arange(-50, 50, dtype=np.int8).reshape(1, 100), 0.5, 1, 1234),
          (25, 9, np.array([[-128, 127]], np.int8), 1 / 256, -128, 56)]


def stream_frames(seq: int, chunk: int, corrupt_frame: int | None = None) -> list[Frame]:
    frames, number = [], 0
    for k, (code, tensor, values, scale, zp, cost) in enumerate(LAYERS):
        raw = values.tobytes()
        desc = TENSOR_DESC.pack(9, values.ndim, 0, *(list(values.shape) + [0] * (6 - values.ndim)), scale, zp, len(raw))
        for offset in range(0, len(raw), chunk):
            data = raw[offset:offset + chunk]
            last = k == len(LAYERS) - 1 and offset + len(data) == len(raw)
            crc = crc32(data) ^ (1 if number == corrupt_frame else 0)
            head = LAYER_CHUNK.pack(number, 1 if last else 0, 0, k, len(LAYERS), code, tensor, cost, offset, crc)
            frames.append(Frame(MsgType.INFER_LAYERS.reply, seq, head + desc + data))
            number += 1
    return frames


class FakeClient:
    url = "fake://"
    boot_info = None

    def __init__(self, corrupt: list[int | None], chunk: int = 30):
        self.corrupt, self.chunk, self.sent, self.pending = list(corrupt), chunk, [], []

    def send(self, msg_type, payload):
        self.sent.append((msg_type, payload))
        seq = len(self.sent)
        self.pending = stream_frames(seq, self.chunk, self.corrupt.pop(0) if self.corrupt else None)
        return seq

    def wait_reply(self, seq, msg_type, timeout_s=None):
        assert msg_type == MsgType.INFER_LAYERS
        frame = self.pending.pop(0)
        assert frame.seq == seq
        return frame


def test_chunks_are_reassembled_in_order():
    client = FakeClient([None])
    dump = infer_layers(client, np.array([1, 2, 3, 4], np.int8), model=MODEL)
    assert client.sent[0] == (MsgType.INFER_LAYERS, bytes(4) + bytes([1, 2, 3, 4]))
    assert [(layer.op_index, layer.op_name, layer.tensor_index, layer.cost) for layer in dump] == [
        (0, "CONV_2D", 7, 1234), (1, "SOFTMAX", 9, 56)]
    assert np.array_equal(dump[0].values, LAYERS[0][2]) and dump[1].zero_point == -128
    assert dump.total_cost == 1290 and dump[0].dequantized()[0, 0] == (-50 - 1) * 0.5


def test_a_bad_chunk_crc_resends_the_request_after_the_stream_ends():
    client = FakeClient([2, None])
    dump = infer_layers(client, np.zeros(4, np.int8), model=MODEL)
    assert len(client.sent) == 2 and not client.pending and len(dump) == 2


def test_a_stream_that_stays_bad_raises():
    client = FakeClient([1, 1])
    with pytest.raises(LayerTransferError, match="frame 1 .* CRC mismatch .*after 2 attempts"):
        infer_layers(client, np.zeros(4, np.int8), model=MODEL)
    assert not client.pending   # read to its end: the link is in step


def test_wrong_input_is_refused_before_sending():
    from harness.errors import ConfigError
    with pytest.raises(ConfigError, match="float32"):
        infer_layers(FakeClient([]), np.zeros(4, np.float32), model=MODEL)
    with pytest.raises(ConfigError, match="5 elements"):
        infer_layers(FakeClient([]), np.zeros(5, np.int8), model=MODEL)


def test_the_host_check_names_the_first_differing_element():
    from dataclasses import replace

    from harness.layers import host_layers
    from harness.layers.judge import LayerMismatchError, check_against_host
    from harness.paths import MODELS_DIR
    model = (MODELS_DIR / "minmax.tflite").read_bytes()
    codes = np.random.default_rng(0).integers(-128, 128, size=(1, 128, 3), dtype=np.int8)
    host = host_layers(model, codes)
    check_against_host(host, host_layers(model, codes))        # deterministic: equal to itself
    changed = host[3].values.copy()
    changed.reshape(-1)[17] ^= 1
    bad = type(host)([replace(layer, values=changed) if layer.op_index == 3 else layer for layer in host], "device")
    with pytest.raises(LayerMismatchError, match="op 3 CONV_2D .*1/256 elements differ.*flat index 17"):
        check_against_host(bad, host)
