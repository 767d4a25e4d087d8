"""harness.device encoders and decoders without a device: payload layouts of docs/protocol.md."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from harness.device.pipeline import MODEL_DESC, TENSOR_DESC, _model_rejected, check_mirror, parse_model_info
from harness.device.preprocess import (AFFINE_RECORD, NEVER_REACHED, PREPROCESS_HEADER, THRESHOLD_HEADER,
                                       as_fold, encode_preprocess)
from harness.device.stream import InferenceResult
from harness.errors import ConfigError, DeviceError, ModelRejectedError, PipelineMismatchError
from harness.quant.fold import fold_scaler
from harness.quant.scalers import make_scaler
from harness.quant.tflite import QuantParams

PARAMS = QuantParams(1.0 / 128, -3)


def fitted(kind: str):
    return make_scaler(kind).fit(np.random.default_rng(0).normal(0.0, 0.6, size=(1000, 3)))


def test_payload_sizes_match_the_protocol_document():
    assert PREPROCESS_HEADER.size == 8 and AFFINE_RECORD.size == 20 and THRESHOLD_HEADER.size == 8
    assert TENSOR_DESC.size == 40 and MODEL_DESC.size + 2 * TENSOR_DESC.size == 100


def test_model_description_decodes():
    tensor_in = TENSOR_DESC.pack(9, 4, 0, 1, 128, 1, 3, 0, 0, 0.0078125, -3, 384)
    tensor_out = TENSOR_DESC.pack(0, 2, 0, 1, 5, 0, 0, 0, 0, 0.0, 0, 20)
    info = parse_model_info(MODEL_DESC.pack(0xDEADBEEF, 2608, 3040, 32768, 2, 1, 1) + tensor_in + tensor_out)
    assert (info.crc32, info.size, info.arena_used, info.source) == (0xDEADBEEF, 2608, 3040, "uploaded")
    assert info.input.shape == (1, 128, 1, 3) and info.input.dtype == np.int8 and info.input.zero_point == -3
    assert info.output.dtype == np.float32 and info.output.elements == 5 and info.window_len == 128


def test_affine_fold_is_one_frame_of_records():
    fold = fold_scaler(fitted("two_stage"), PARAMS, 2048.0)
    (payload,) = encode_preprocess(fold, 2048)
    kind, channels, axes, first, count = PREPROCESS_HEADER.unpack_from(payload)
    assert (kind, channels, axes, first, count) == (1, 6, 3, 0, 6)
    records = [AFFINE_RECORD.unpack_from(payload, 8 + 20 * j) for j in range(6)]
    assert [r[0] for r in records] == [0, 1, 2, 0, 1, 2]
    assert [r[4] for r in records] == list(fold.multiplier) and all(r[6] == -3 for r in records)


def test_threshold_records_leave_out_steps_never_reached():
    fold = fold_scaler(fitted("log1p"), PARAMS, 2048.0)
    payloads = encode_preprocess(fold, 2048)
    at, first = [], 0
    for payload in payloads:
        assert PREPROCESS_HEADER.unpack_from(payload)[3] == first
        offset = 8
        for _ in range(PREPROCESS_HEADER.unpack_from(payload)[4]):
            axis, base, n = THRESHOLD_HEADER.unpack_from(payload, offset)
            table = struct.unpack_from(f"<{n}i", payload, offset + 8)
            assert list(table) == [int(t) for t in fold.thresholds[first] if t < NEVER_REACHED]
            assert base == fold.code_base and axis == fold.source_axis[first]
            offset += 8 + 4 * n
            first += 1
            at.append(n)
        assert offset == len(payload)
    assert first == 3


def test_as_fold_accepts_folds_exports_and_scaler_exports_with_fixed_point():
    scaler = fitted("robust")
    fold = fold_scaler(scaler, PARAMS, 2048.0)
    assert as_fold(fold) is fold
    assert np.array_equal(as_fold(fold.export()).multiplier, fold.multiplier)
    from harness.quant.fold import export_with_fixed_point
    assert np.array_equal(as_fold(export_with_fixed_point(scaler, PARAMS, 2048.0)).offset, fold.offset)
    with pytest.raises(ConfigError, match="fixed-point form"):
        as_fold(scaler.export())


def test_mirror_mismatch_lists_the_first_differences():
    fold = fold_scaler(fitted("robust"), PARAMS, 2048.0)
    counts = np.random.default_rng(1).integers(-3000, 3000, size=(4, 16, 3)).astype(np.int16)
    codes = fold.codes(counts).reshape(4, 1, 16, 1, 3)
    result = InferenceResult(codes.copy(), np.zeros((4, 1, 2), np.int8), np.ones(4, np.uint32))
    check_mirror(result, counts, fold)
    result.input_codes[2, 0, 5, 0, 1] ^= 1
    with pytest.raises(PipelineMismatchError, match="window 2 element 16") as caught:
        check_mirror(result, counts, fold)
    assert caught.value.count == 1 and caught.value.mismatches[0][:2] == (2, 16)


def test_model_rejected_text_becomes_fields():
    error = DeviceError(15, "MODEL_REJECTED", 10, "ARENA_TOO_SMALL op=-1 tensor=-1 detail=0 needed=36848 given=32768",
                        "LOAD_END")
    rejected = _model_rejected(error)
    assert isinstance(rejected, ModelRejectedError)
    assert (rejected.status, rejected.needed, rejected.given, rejected.op_index) == ("ARENA_TOO_SMALL", 36848, 32768, -1)
    other = DeviceError(11, "TOO_LARGE", 65536, "x")
    assert _model_rejected(other) is other
