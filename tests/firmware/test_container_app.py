"""examples/container_app/: a product-style firmware, built from its own Makefile (the agent via
agent.mk, the BSP and the portable engine by path), its model linked into flash and its own
float preprocessing, booted on QEMU's netduinoplus2 and judged with the harness's library:

- INFO: CAPABILITIES INFER_CODES | INFER_WINDOW | RESET (no MODEL_UPLOAD, no SET_PREPROCESS),
  MODEL_SOURCE linked, MODEL_CRC32 = zlib.crc32 of the bundle's .tflite;
- minmax, robust: the input codes the device fed the model are the host's
  quantize(scaler.transform(counts / 2048)) (float32 rounding may move an element by 1 LSB where
  y / scale sits on a .5 boundary; measured: minmax 0 of 230,400 elements, robust 24 of 230,400,
  all on az), and its outputs are the host INT8 reference's on those codes, byte for byte;
- minmax_wrap: the field report's cast, (int8_t)round(y * 255), wraps codes 128..255 to negative
  ones; the device's codes are that bug's, not the model's input quantization, from the first
  element on.

HIL_CONTAINER_APP_WINDOWS (default 24) sets the mixed-scenario windows per variant; the TFLM
build runs only with HIL_TFLM_DIR (a tflite-micro tree with a cortex-m4+fp release library)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from harness.errors import DeviceError
from harness.link.protocol import MsgType

REPO = Path(__file__).resolve().parents[2]
APP_DIR = REPO / "examples" / "container_app"
BUNDLE_OF = {"minmax": "minmax", "minmax_wrap": "minmax", "robust": "robust"}
WINDOWS = int(os.environ.get("HIL_CONTAINER_APP_WINDOWS", "24"))
SEED = 20261201
TFLM_DIR = os.environ.get("HIL_TFLM_DIR")
TAG_CAPABILITIES = 18
CAP_INFER_CODES, CAP_INFER_WINDOW, CAP_MODEL_UPLOAD, CAP_SET_PREPROCESS, CAP_RESET, CAP_FAULT = (1 << i for i in range(6))
# float32 preprocessing against the host's float64 scaler: at most 1 LSB, on at most this share
MAX_LSB, MAX_SHARE = 1, 1e-3

pytestmark = [
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None,
                       reason="arm-none-eabi-gcc and make are needed to build the example"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is not installed"),
]


def make(build_dir: Path, *targets: str, **variables: str) -> subprocess.CompletedProcess:
    args = ["make", "-C", str(APP_DIR), "-j2", f"BUILD_DIR={build_dir}", *targets]
    args += [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


def build(build_dir: Path, **variables: str) -> Path:
    built = make(build_dir, **variables)
    assert built.returncode == 0, built.stdout + built.stderr
    elf = build_dir / "app.elf"
    assert elf.is_file()
    return elf


def capabilities(info) -> int:
    """CAPABILITIES from INFO: raw in unknown[18] until the host's protocol table knows the tag."""
    raw = info.unknown.get(TAG_CAPABILITIES)
    return struct.unpack("<I", raw)[0] if raw is not None else int(info.capabilities)


def host_codes(suite_model, counts) -> np.ndarray:
    from harness.quant.tflite import QuantParams, quantize
    params = QuantParams(float(suite_model.metadata.input["scale"]), int(suite_model.metadata.input["zero_point"]))
    return quantize(suite_model.scaler.transform(counts / suite_model.counts_per_g), params)


def wrap_bug_codes(suite_model, counts) -> np.ndarray:
    """The field report's cast as the firmware's minmax_wrap variant writes it in C:
    (int8_t)(int32_t)roundf(y * 255.0f), y the min-max output in float32."""
    from harness.quant.tflite import round_half_away_from_zero
    y = suite_model.scaler.transform(counts / suite_model.counts_per_g).astype(np.float32)
    return round_half_away_from_zero(y * np.float32(255.0)).astype(np.int64).astype(np.int8)


@dataclass
class Session:
    variant: str
    elf: Path
    suite_model: object
    boot: object
    info: object
    model: object
    counts: np.ndarray
    result: object                    # InferenceResult of INFER_WINDOW
    by_codes: object                  # the same codes again through INFER_CODES
    refused: dict = field(default_factory=dict)   # request name -> error code name
    echo_after: bytes = b""

    @property
    def codes(self) -> np.ndarray:
        return self.result.input_codes.reshape(self.counts.shape)


def judge(variant: str, elf: Path, bundle_name: str) -> Session:
    from harness.device import infer_codes, infer_windows
    from harness.device.pipeline import model_info
    from harness.suite.suite_model import load_suite_model
    from harness.suite.scenarios import make_scenario_windows
    from harness.targets import running_device

    suite_model = load_suite_model(bundle_name)
    windows = make_scenario_windows("mixed", suite_model.dataset_config, WINDOWS, SEED, suite_model.counts_per_g)
    with running_device("qemu", elf) as device:
        client = device.client
        boot, info, model = client.boot_info, client.info(), model_info(client)
        result = infer_windows(client, windows.counts, mirror=False)
        by_codes = infer_codes(client, result.input_codes)
        refused = {}
        for msg_type, payload in ((MsgType.LOAD_BEGIN, bytes(8)), (MsgType.SET_PREPROCESS, bytes(8))):
            try:
                client.request(msg_type, payload)
                refused[msg_type.name] = "accepted"
            except DeviceError as e:
                refused[msg_type.name] = e.code_name
        echo_after = client.request(MsgType.ECHO, b"still here").payload
    return Session(variant, elf, suite_model, boot, info, model, windows.counts, result, by_codes, refused, echo_after)


@pytest.fixture(scope="module", params=sorted(BUNDLE_OF))
def session(request, tmp_path_factory) -> Session:
    variant = request.param
    elf = build(tmp_path_factory.mktemp(f"container_app-{variant}"), VARIANT=variant)
    return judge(variant, elf, BUNDLE_OF[variant])


def test_info_says_linked_model_own_preprocessing_and_what_is_served(session):
    bundle = session.suite_model.bundle
    model_bytes = Path(bundle.int8_path).read_bytes()
    for info in (session.boot, session.info):
        caps = capabilities(info)
        assert caps == CAP_INFER_CODES | CAP_INFER_WINDOW | CAP_RESET, hex(caps)
        assert not caps & (CAP_MODEL_UPLOAD | CAP_SET_PREPROCESS | CAP_FAULT)
        assert info.model_source == "linked"
        assert info.model_crc32 == zlib.crc32(model_bytes) and info.model_bytes == len(model_bytes)
        assert (info.board, info.engine, info.cost_unit, info.model_buffer) == \
            ("netduinoplus2", "portable", "instructions", 0)
        assert info.build_id.endswith("-" + session.variant)
    assert session.boot.as_dict() == session.info.as_dict()
    assert session.model.source == "linked" and session.model.crc32 == zlib.crc32(model_bytes)
    assert session.model.input.shape == tuple(bundle.metadata.input["shape"])
    assert session.model.input.zero_point == bundle.metadata.input["zero_point"]


def test_requests_the_product_does_not_serve_are_unknown_types(session):
    assert session.refused == {"LOAD_BEGIN": "UNKNOWN_TYPE", "SET_PREPROCESS": "UNKNOWN_TYPE"}
    assert session.echo_after == b"still here"


def test_outputs_are_the_host_int8_reference_on_the_codes_the_device_fed(session):
    reference = session.suite_model.int8_reference.predict_codes(session.codes)
    assert np.array_equal(session.result.outputs.reshape(reference.codes.shape), reference.codes)
    # INFER_CODES with the same codes: same outputs, same cost (the cost brackets invoke only)
    assert np.array_equal(session.by_codes.outputs, session.result.outputs)
    assert np.array_equal(session.by_codes.cost, session.result.cost)
    cost = session.result.cost.astype(np.float64)
    # a real inference: ~0.48 M instructions with the optimized kernels (7.2 M with the reference ones)
    assert cost.min() > 2e5 and (cost.max() - cost.min()) / np.median(cost) < 0.01, cost


def test_input_codes_are_what_the_variants_preprocessing_computes(session):
    if session.variant == "minmax_wrap":
        check_wrapped_codes(session)
    else:
        check_input_quantization(session)


def check_input_quantization(session):
    """minmax, robust: the codes are the model's input quantization of the training's scaler."""
    expected = host_codes(session.suite_model, session.counts)
    diff = session.codes.astype(np.int64) - expected.astype(np.int64)
    where = np.argwhere(diff != 0)
    share = len(where) / diff.size
    summary = (f"{session.variant}: {len(where)} of {diff.size} codes differ ({share:.2e}), max |diff| "
               f"{int(np.abs(diff).max())}, at (window, sample, axis) {[tuple(map(int, w)) for w in where[:8]]}")
    print(summary)
    assert np.abs(diff).max() <= MAX_LSB and share <= MAX_SHARE, summary
    # each 1-LSB difference is float32 rounding on a .5 boundary of y / scale, not a wrong constant
    y = session.suite_model.scaler.transform(session.counts / session.suite_model.counts_per_g).astype(np.float32)
    ratio = y / np.float32(session.suite_model.metadata.input["scale"])
    for w, s, a in where:
        frac = float(ratio[w, s, a]) - np.floor(float(ratio[w, s, a]))
        assert abs(frac - 0.5) < 1e-3, (int(w), int(s), int(a), float(ratio[w, s, a]))


def check_wrapped_codes(session):
    """minmax_wrap: the field report's cast, not the input quantization, from the first element on."""
    expected = host_codes(session.suite_model, session.counts)
    differs = session.codes != expected
    first = tuple(int(i) for i in np.argwhere(differs)[0])
    print(f"minmax_wrap: {int(differs.sum())} of {differs.size} codes differ from the input quantization; "
          f"first at (window, sample, axis) {first}: device {int(session.codes[first])}, "
          f"host {int(expected[first])}")
    assert first == (0, 0, 0)
    assert differs.mean() > 0.99
    # what the device fed is the bug's cast (to 1 LSB of float32 rounding, modulo the wrap)
    bug = wrap_bug_codes(session.suite_model, session.counts)
    off = (session.codes.astype(np.int64) - bug.astype(np.int64) + 128) % 256 - 128
    assert np.abs(off).max() <= MAX_LSB and np.count_nonzero(off) / off.size <= MAX_SHARE
    # that is the codes the model wants, shifted by 128 (no zero point) and wrapped to int8
    in_range = (expected > -128) & (expected < 127)   # not clamped by the input quantization
    shifted = (expected.astype(np.int64) + 128 + 128) % 256 - 128
    assert np.count_nonzero(session.codes[in_range] != shifted[in_range]) <= MAX_SHARE * differs.size
    wrapped = (session.codes < 0) & (expected >= 0)   # y >= 0.5: 128..255 became -128..-1
    assert wrapped.any()
    print(f"minmax_wrap: {int(wrapped.sum())} codes wrapped negative (y >= 0.5, shocks), "
          f"first at {tuple(int(i) for i in np.argwhere(wrapped)[0])}")


def test_the_build_is_the_products_own(session):
    linked = (session.elf.parent / "app.map").read_text()
    assert "preprocess.c.o" in linked and "model_data.S.o" in linked and "agent.c.o" in linked
    assert "firmware/src/main.c" not in linked and "preprocess_port.c" not in linked
    assert "tflm_model" not in linked
    constants = (session.elf.parent / "gen" / "model_constants.h").read_text()
    assert f'MODEL_SCALER_KIND "{session.suite_model.scaler.name}"' in constants
    size = subprocess.run(["arm-none-eabi-size", str(session.elf)], capture_output=True, text=True, check=True)
    text, data, bss = (int(v) for v in size.stdout.splitlines()[1].split()[:3])
    print(f"{session.variant}: flash {text + data} B, RAM {data + bss} B (8 KiB of it the stack)")
    assert text + data < 64 * 1024 and data + bss < 48 * 1024   # no 64 KiB upload buffer, 16 KiB arena


def test_make_refuses_an_unknown_variant(tmp_path):
    refused = make(tmp_path, VARIANT="zscore")
    assert refused.returncode != 0 and "unknown VARIANT 'zscore'" in refused.stderr


def test_a_model_other_than_the_constants_is_linked_but_refused_windows(tmp_path):
    """MODEL= links another .tflite (INFO's CRC says which); the preprocessing's constants were
    generated for the bundle's input quantization, so raw windows are refused, saying why."""
    from harness.device import infer_windows
    from harness.errors import StreamError
    from harness.targets import running_device

    other = REPO / "fixtures" / "models" / "robust.tflite"
    elf = build(tmp_path, VARIANT="minmax", MODEL=str(other))
    with running_device("qemu", elf) as device:
        assert device.client.boot_info.model_crc32 == zlib.crc32(other.read_bytes())
        with pytest.raises(StreamError) as refused:
            infer_windows(device.client, np.zeros((1, 128, 3), dtype=np.int16), mirror=False)
    assert isinstance(refused.value.error, DeviceError) and refused.value.error.code_name == "BAD_STATE"
    assert "quantization differs from the constants'" in refused.value.error.text


@pytest.mark.skipif(not TFLM_DIR, reason="HIL_TFLM_DIR is not set: no TFLM tree to build tflm_model.cc against")
def test_the_tflm_build_feeds_and_answers_like_the_host(tmp_path):
    elf = build(tmp_path, VARIANT="robust", TFLM_DIR=str(TFLM_DIR))
    run = judge("robust", elf, "robust")
    assert run.info.engine == "tflm" and capabilities(run.info) == CAP_INFER_CODES | CAP_INFER_WINDOW | CAP_RESET
    diff = run.codes.astype(np.int64) - host_codes(run.suite_model, run.counts).astype(np.int64)
    assert np.abs(diff).max() <= MAX_LSB and np.count_nonzero(diff) / diff.size <= MAX_SHARE
    reference = run.suite_model.int8_reference.predict_codes(run.codes)
    assert np.array_equal(run.result.outputs.reshape(reference.codes.shape), reference.codes)
