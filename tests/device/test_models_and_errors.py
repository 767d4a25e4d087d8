"""Model upload, replacement, a model linked into the image, and every kind of bad input:
each gets an ERROR naming the problem, the device keeps serving, the host raises clearly and
keeps what it already received."""

from __future__ import annotations

import struct
from dataclasses import replace

import numpy as np
import pytest

from harness.device import infer_codes, infer_windows, load_model, model_info, set_preprocess
from harness.device.deployed import DeployedPipeline
from harness.device.synthetic_models import arena_hog, unsupported_op_model, window_classifier
from harness.device.oracle import reference_outputs
from harness.device.pipeline import CHUNK_HEADER, INFER_WINDOW_HEADER, LOAD_BEGIN
from harness.device.preprocess import encode_preprocess
from harness.device.stream import run_stream
from harness.errors import (ConfigError, DeviceError, ModelRejectedError, PipelineMismatchError,
                            StreamError, TargetError)
from harness.firmware.build import build_firmware
from harness.link.frame import crc32
from harness.link.protocol import MsgType
from harness.quant.fold import fold_scaler
from harness.quant.scalers import make_scaler
from harness.quant.tflite import QuantParams
from harness.targets import running_device

from device_cases import COUNTS_PER_G, scenario_counts

MODEL_A = window_classifier(3, seed=11)
MODEL_B = window_classifier(3, seed=12, filters=6)


def robust_fold(model, scaler: str = "robust"):
    rng = np.random.default_rng(0)
    fitted = make_scaler(scaler).fit(rng.normal(0.0, 0.5, size=(2000, 3)))
    return fold_scaler(fitted, QuantParams(model.input.scale, model.input.zero_point), COUNTS_PER_G)


def model_a_with_robust_fold(client):
    """MODEL_A uploaded and the robust fold set on the device: (the model's info, the fold)."""
    model = load_model(client, MODEL_A)
    fold = robust_fold(model)
    set_preprocess(client, fold)
    return model, fold


def still_serving(client, model_bytes=None):
    assert client.echo(b"alive") == b"alive"
    if model_bytes is not None:
        model = load_model(client, model_bytes)
        codes = np.zeros((1,) + model.input.shape, dtype=np.int8)
        assert np.array_equal(infer_codes(client, codes).outputs, reference_outputs(model_bytes, codes))


def random_codes(model, n, seed=0):
    return np.random.default_rng(seed).integers(-128, 128, size=(n,) + model.input.shape, dtype=np.int8)


# --- upload and replace ------------------------------------------------------------------------

def test_upload_then_replace_gives_the_second_models_outputs(pipeline_device):
    client = pipeline_device.client
    first = load_model(client, MODEL_A)
    codes = random_codes(first, 8)
    out_a = infer_codes(client, codes).outputs
    assert np.array_equal(out_a, reference_outputs(MODEL_A, codes))
    second = load_model(client, MODEL_B, chunk_size=333)  # odd chunks: offsets that are not aligned
    assert (second.crc32, second.size) == (crc32(MODEL_B), len(MODEL_B))
    out_b = infer_codes(client, codes).outputs
    assert np.array_equal(out_b, reference_outputs(MODEL_B, codes))
    assert not np.array_equal(out_a, out_b)
    info = client.info()
    assert (info.model_crc32, info.model_bytes, info.model_source) == (crc32(MODEL_B), len(MODEL_B), "uploaded")
    assert info.arena_used == second.arena_used > 0
    assert (info.model_buffer, info.arena_size) == (65536, 32768)
    assert model_info(client) == second


def test_model_linked_into_the_image(tmp_path):
    path = tmp_path / "linked.tflite"
    path.write_bytes(MODEL_A)
    image = build_firmware(engine="portable", build_dir=tmp_path / "build", extra_make_vars={"MODEL": str(path)})
    with running_device("qemu", image) as device:
        boot = device.boot_info
        assert (boot.model_source, boot.model_crc32, boot.model_bytes) == ("linked", crc32(MODEL_A), len(MODEL_A))
        model = model_info(device.client)
        codes = random_codes(model, 4)
        assert np.array_equal(infer_codes(device.client, codes).outputs, reference_outputs(MODEL_A, codes))
        load_model(device.client, MODEL_B)  # an upload replaces the linked model
        assert device.client.info().model_source == "uploaded"


# --- model upload errors ------------------------------------------------------------------------

def test_model_larger_than_the_buffer(pipeline_device):
    client = pipeline_device.client
    with pytest.raises(DeviceError, match="exceeds the model buffer") as caught:
        load_model(client, bytes(70_000))
    assert caught.value.code_name == "TOO_LARGE" and caught.value.detail == 65536
    still_serving(client, MODEL_A)


def test_model_needing_more_arena_than_the_device_has(pipeline_device):
    client = pipeline_device.client
    with pytest.raises(ModelRejectedError) as caught:
        load_model(client, arena_hog(32768))
    e = caught.value
    assert e.status == "ARENA_TOO_SMALL" and e.given == 32768 and e.needed > 32768
    with pytest.raises(DeviceError, match="no model loaded"):
        model_info(client)
    still_serving(client, MODEL_A)


def test_unsupported_op_carries_the_engine_error(pipeline_device):
    client = pipeline_device.client
    with pytest.raises(ModelRejectedError, match="UNSUPPORTED_OP") as caught:
        load_model(client, unsupported_op_model())
    e = caught.value
    assert (e.code_name, e.status, e.op_index, e.engine_detail) == ("MODEL_REJECTED", "UNSUPPORTED_OP", 0, 28)
    still_serving(client, MODEL_A)


def _begin(client, model_bytes):
    client.request(MsgType.LOAD_BEGIN, LOAD_BEGIN.pack(len(model_bytes), crc32(model_bytes)))


def _chunk(client, offset, data, crc=None):
    header = CHUNK_HEADER.pack(offset, crc32(data) if crc is None else crc)
    return client.request(MsgType.LOAD_CHUNK, header + data)


def test_chunk_out_of_order_is_refused_and_recoverable(pipeline_device):
    client = pipeline_device.client
    _begin(client, MODEL_A)
    with pytest.raises(DeviceError, match="chunk at offset 1000, expected 0") as caught:
        _chunk(client, 1000, MODEL_A[1000:2000])
    assert caught.value.code_name == "OUT_OF_ORDER" and caught.value.detail == 0
    _chunk(client, 0, MODEL_A[:1000])
    with pytest.raises(DeviceError, match="OUT_OF_ORDER"):
        _chunk(client, 0, MODEL_A[:1000])  # a repeated chunk is out of order too
    _chunk(client, 1000, MODEL_A[1000:])
    client.request(MsgType.LOAD_END)
    assert model_info(client).crc32 == crc32(MODEL_A)


def test_chunk_with_bad_crc_is_refused_and_recoverable(pipeline_device):
    client = pipeline_device.client
    _begin(client, MODEL_A)
    with pytest.raises(DeviceError, match="chunk CRC mismatch at offset 0") as caught:
        _chunk(client, 0, MODEL_A[:1500], crc=crc32(MODEL_A[:1500]) ^ 1)
    assert caught.value.code_name == "BAD_CHUNK_CRC"
    _chunk(client, 0, MODEL_A[:1500])
    _chunk(client, 1500, MODEL_A[1500:])
    client.request(MsgType.LOAD_END)
    assert model_info(client).size == len(MODEL_A)


def test_whole_model_crc_mismatch_and_incomplete_upload(pipeline_device):
    client = pipeline_device.client
    client.request(MsgType.LOAD_BEGIN, LOAD_BEGIN.pack(len(MODEL_A), crc32(MODEL_A) ^ 0xFFFF))
    _chunk(client, 0, MODEL_A[:2000])
    _chunk(client, 2000, MODEL_A[2000:])
    with pytest.raises(DeviceError, match="model CRC mismatch") as caught:
        client.request(MsgType.LOAD_END)
    assert caught.value.code_name == "BAD_MODEL_CRC" and caught.value.detail == crc32(MODEL_A)
    _begin(client, MODEL_A)
    _chunk(client, 0, MODEL_A[:100])
    with pytest.raises(DeviceError, match=f"received 100 of {len(MODEL_A)} model bytes"):
        client.request(MsgType.LOAD_END)
    with pytest.raises(DeviceError, match="no model upload in progress") as caught:
        _chunk(client, 100, MODEL_A[100:200])
    assert caught.value.code_name == "BAD_STATE"
    still_serving(client, MODEL_A)


# --- preprocessing errors ------------------------------------------------------------------------

def test_set_preprocess_refuses_a_zero_range(pipeline_device):
    client = pipeline_device.client
    model = load_model(client, MODEL_A)
    fold = robust_fold(model)
    flat = replace(fold, multiplier=np.array([fold.multiplier[0], 0, fold.multiplier[2]]))
    with pytest.raises(DeviceError, match="channel 1: zero range") as caught:
        set_preprocess(client, flat.export())
    assert caught.value.code_name == "BAD_PREPROCESS" and caught.value.detail == 1
    assert client.info().preprocess_channels == 0  # a refused configuration leaves none
    set_preprocess(client, fold)
    assert client.info().preprocess_channels == 3


def test_set_preprocess_refuses_shift_out_of_range(pipeline_device):
    client = pipeline_device.client
    model = load_model(client, MODEL_A)
    fold = robust_fold(model)
    bad = replace(fold, shift=np.array([fold.shift[0], fold.shift[1], 63]))
    with pytest.raises(DeviceError, match="channel 2: shift out of range"):
        set_preprocess(client, bad)
    still_serving(client)


def test_set_preprocess_refuses_a_channel_count_the_model_does_not_take(pipeline_device):
    client = pipeline_device.client
    model = load_model(client, MODEL_A)  # 3 input channels
    rng = np.random.default_rng(0)
    two_stage = make_scaler("two_stage").fit(rng.normal(0.0, 0.5, size=(2000, 3)))
    fold6 = fold_scaler(two_stage, QuantParams(model.input.scale, model.input.zero_point), COUNTS_PER_G)
    with pytest.raises(DeviceError, match="channel count mismatch: preprocess has 6, model input wants 3"):
        set_preprocess(client, fold6)
    still_serving(client)


def test_threshold_preprocessing_spans_frames():
    fold = make_scaler("log1p").fit(np.random.default_rng(0).normal(0, 1, (500, 3)))
    from harness.quant.fold import fold_scaler as fold_any
    threshold = fold_any(fold, QuantParams(0.01, 0), COUNTS_PER_G)
    payloads = encode_preprocess(threshold, 2048)
    assert len(payloads) >= 2 and all(len(p) <= 2048 for p in payloads)
    assert [p[3] for p in payloads] == sorted(p[3] for p in payloads)  # "first" grows


# --- inference errors --------------------------------------------------------------------------

def test_windows_of_the_wrong_length_or_type(pipeline_device):
    client = pipeline_device.client
    model, _ = model_a_with_robust_fold(client)
    with pytest.raises(StreamError, match="window has 100 samples, model wants 128") as caught:
        infer_windows(client, np.zeros((3, 100, 3), dtype=np.int16))
    assert caught.value.error.code_name == "SHAPE_MISMATCH" and caught.value.failed_index == 0
    with pytest.raises(StreamError, match="window has 2 axes, preprocessing reads 3"):
        infer_windows(client, np.zeros((1, 128, 2), dtype=np.int16))
    with pytest.raises(ConfigError, match="integer sensor counts"):
        infer_windows(client, np.zeros((1, 128, 3), dtype=np.float32))
    with pytest.raises(StreamError, match="input tensor is 384 bytes, request carries 383"):
        run_stream(client, MsgType.INFER_CODES, [bytes(4 + 383)], model)
    with pytest.raises(StreamError, match="not n_samples x n_axes int16 counts"):
        run_stream(client, MsgType.INFER_WINDOW, [INFER_WINDOW_HEADER.pack(0, 3, 128) + bytes(767)], model)
    still_serving(client)


def test_a_bad_window_mid_stream_keeps_every_earlier_result(pipeline_device):
    client = pipeline_device.client
    model, fold = model_a_with_robust_fold(client)
    counts = scenario_counts("impact", 12, 128)
    payloads = [INFER_WINDOW_HEADER.pack(1, 3, 128) + w.astype("<i2").tobytes() for w in counts]
    payloads[7] = INFER_WINDOW_HEADER.pack(1, 3, 64) + counts[7][:64].astype("<i2").tobytes()
    with pytest.raises(StreamError) as caught:
        run_stream(client, MsgType.INFER_WINDOW, payloads, model, depth=4)
    e = caught.value
    assert e.failed_index == 7 and len(e.results) == 7 and e.run is None
    assert np.array_equal(e.results.input_codes, fold.codes(counts[:7]).reshape((7,) + model.input.shape))
    assert np.array_equal(e.results.outputs, reference_outputs(MODEL_A, e.results.input_codes))
    # the windows sent after the bad one were drained: the client and device carry on in step
    again = infer_windows(client, counts[8:], model=model, mirror=fold)
    assert np.array_equal(again.outputs, reference_outputs(MODEL_A, again.input_codes))


def test_inference_needs_a_model_and_preprocessing(fresh_pipeline_device):
    client = fresh_pipeline_device.client
    with pytest.raises(DeviceError, match="no model loaded"):
        client.request(MsgType.INFER_CODES, bytes(8))
    model = load_model(client, MODEL_A)
    with pytest.raises(StreamError, match="no preprocessing configured"):
        infer_windows(client, np.zeros((1, 128, 3), dtype=np.int16), model=model)
    still_serving(client)


def test_mirror_mismatch_is_a_harness_fault_not_a_model_fault(pipeline_device):
    client = pipeline_device.client
    model, fold = model_a_with_robust_fold(client)
    other = robust_fold(model, "minmax")
    counts = scenario_counts("normal", 5, 128)
    with pytest.raises(PipelineMismatchError, match="harness/firmware fault") as caught:
        infer_windows(client, counts, mirror=other)
    e = caught.value
    assert len(e.result) == 5 and e.count > 0 and e.mismatches
    assert not isinstance(e, DeviceError)
    assert np.array_equal(e.result.outputs, reference_outputs(MODEL_A, e.result.input_codes))


def test_the_mirror_is_named_not_remembered():
    """Nothing is remembered per client: the fold to check against is passed (mirror=fold, or
    DeployedPipeline.infer_windows), never taken from an earlier set_preprocess."""
    with pytest.raises(ConfigError, match="mirror=True: pass the fold"):
        infer_windows(None, np.zeros((1, 128, 3), dtype=np.int16), mirror=True)


def test_a_deployed_pipeline_checks_against_the_fold_it_sent(pipeline_device):
    client = pipeline_device.client
    model = load_model(client, MODEL_A)
    fold = robust_fold(model)
    pipeline = DeployedPipeline(MODEL_A, fold.export(), source="MODEL_A", timeout_s=5)
    with pytest.raises(TargetError, match="not deployed"):
        pipeline.infer_windows(np.zeros((1, 128, 3), dtype=np.int16))
    info = pipeline.deploy(client)
    assert info == pipeline.model and info.crc32 == model.crc32 and pipeline.client is client
    assert pipeline.fold_sent is not None and not pipeline.own_preprocessing and pipeline.deploys == 1
    counts = scenario_counts("impact", 4, 128)
    result = pipeline.infer_windows(counts)
    assert np.array_equal(result.input_codes, fold.codes(counts).reshape((4,) + model.input.shape))
    set_preprocess(client, robust_fold(model, "minmax"))      # the device now runs another fold
    with pytest.raises(PipelineMismatchError, match="harness/firmware fault"):
        pipeline.infer_windows(counts)
    assert pipeline.redeploy(client) == info and pipeline.deploys == 2
    assert np.array_equal(pipeline.infer_windows(counts).outputs, result.outputs)


def test_cost_is_deterministic_with_exclusive_invoke(pipeline_device):
    client = pipeline_device.client
    model = load_model(client, MODEL_A)
    codes = np.repeat(random_codes(model, 1), 6, axis=0)
    cost = infer_codes(client, codes, depth=3).cost
    assert len(set(cost.tolist())) == 1, cost
    assert struct.calcsize("<I") == 4 and 1_000 < int(cost[0]) < 50_000_000
