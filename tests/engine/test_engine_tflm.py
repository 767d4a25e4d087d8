"""The tflm engine (firmware/src/engine/tflm/engine_tflm.cc) behind the same hil/engine.h:
built against the user's TFLM tree and run on QEMU, it must give the oracle's bytes and refuse
the same unsupported models. TFLM is never in this repository, so these tests skip unless
HIL_TFLM_DIR names a tflite-micro tree with a Cortex-M4F libtensorflow-microlite.a (see
firmware/src/engine/README.md for the build it needs).

The self-test (tests/engine/qemu/engine_selftest.c on mps2-an386) is compiled with the
firmware's flags for the engine (engine.mk's print-engine-flags: -DNDEBUG, -DCMSIS_NN with a
cmsis_nn library, ...), in two builds as the firmware has them: the shipped one (int8 models;
with CMSIS-NN its int8-only kernels) and TFLM_INT16=1's (the library's int8+int16 kernels: the
16x8 models, and the refusals, which the portable engine makes with its int16 kernels in).

HIL_TFLM_RELEASE (default 1) says whether that library was built with BUILD_TYPE=release (only
a release library links: the others need newlib's heap and syscalls); HIL_TFLM_QEMU_MODELS
(default 30) how many seeded random models (int8, and 16x8) run through the self-test and the
firmware; the grouped convolutions without a bias behind the adapter's CMSIS-NN workaround
(seeds 20144 and 20385) always run. Measured with HIL_TFLM_QEMU_MODELS=250: every random int8
and 16x8 model and every committed model identical to tflite_micro on the self-test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from engine_cases import (FIXTURE_MODELS, QEMU, RANDOM_16X8_SEEDS, RANDOM_SEEDS, generated, oracle_case, oracle_run,
                          run_on_qemu)
from engine_support import REPO_ROOT
from engine_support.qemu_selftest import build_qemu_selftest_tflm, compile_commands, engine_build_flags, tflm_make_vars
from engine_support.random_models import random_inputs

from harness.engine import tflite_builder as tb
from harness.engine.host import EngineError, HostEngine
from harness.engine.tflite_builder import Activation, BuiltinOp, ModelBuilder

TFLM_DIR = os.environ.get("HIL_TFLM_DIR")
TFLM_RELEASE = os.environ.get("HIL_TFLM_RELEASE", "1") == "1"
QEMU_MODELS = int(os.environ.get("HIL_TFLM_QEMU_MODELS", "30"))
# Random models with a grouped CONV_2D without a bias tensor: CMSIS-NN's arm_convolve_s8 gave
# wrong bytes on them before the adapter ran such nodes on TFLM's reference kernel.
GROUPED_CONV_WITHOUT_BIAS_SEEDS = (20144, 20385)
FLOAT_MODELS = sorted((REPO_ROOT / "fixtures" / "models").glob("*.float.tflite"))

pytestmark = [
    pytest.mark.skipif(not TFLM_DIR, reason="HIL_TFLM_DIR is not set: no TFLM tree to build the tflm engine against"),
    pytest.mark.skipif(shutil.which(QEMU) is None, reason="qemu-system-arm is not installed"),
]


@pytest.fixture(scope="module")
def tflm_elf(tmp_path_factory):
    """The self-test with the shipped build of the adapter (TFLM_INT16=0)."""
    return build_qemu_selftest_tflm(Path(TFLM_DIR), release=TFLM_RELEASE,
                                    build_dir=tmp_path_factory.mktemp("engine-qemu"))


@pytest.fixture(scope="module")
def tflm_elf_int16(tmp_path_factory):
    """The self-test with TFLM_INT16=1's build: the library's int8+int16 kernels."""
    return build_qemu_selftest_tflm(Path(TFLM_DIR), release=TFLM_RELEASE, int16=True,
                                    build_dir=tmp_path_factory.mktemp("engine-qemu-int16"))


def qemu_exit(elf, workdir: Path, model: bytes, inputs: bytes = b"") -> int:
    """The self-test's exit code: 0, or 10 + the hil_status of a failed load or invoke."""
    (workdir / "model.tflite").write_bytes(model)
    (workdir / "input.bin").write_bytes(inputs)
    proc = subprocess.run(
        [QEMU, "-M", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none",
         "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
        cwd=workdir, capture_output=True, text=True, timeout=60)
    return proc.returncode


@pytest.mark.parametrize("seed", list(RANDOM_SEEDS)[:QEMU_MODELS])
def test_tflm_engine_matches_oracle(tflm_elf, tmp_path, seed):
    model, inputs, expected = oracle_case(seed)
    assert run_on_qemu(tflm_elf, tmp_path, model, inputs) == expected


def _grouped_convs_without_bias(model: bytes) -> int:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    graph = m.subgraphs[0]
    found = 0
    for op in graph.operators:
        code = m.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) != BuiltinOp.CONV_2D:
            continue
        x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
        found += int(x.shape[3] != w.shape[3] and (len(op.inputs) < 3 or op.inputs[2] < 0))
    return found


@pytest.mark.parametrize("seed", GROUPED_CONV_WITHOUT_BIAS_SEEDS)
def test_tflm_engine_grouped_conv_without_bias(tflm_elf, tmp_path, seed):
    """The CMSIS-NN workaround's cases, whatever HIL_TFLM_QEMU_MODELS says, on the shipped
    build (CMSIS-NN's int8 kernels with a cmsis_nn library)."""
    model, inputs, expected = oracle_case(seed)
    assert _grouped_convs_without_bias(model) >= 1, f"seed {seed} no longer has a grouped CONV_2D without a bias"
    assert run_on_qemu(tflm_elf, tmp_path, model, inputs) == expected


@pytest.mark.parametrize("seed", list(RANDOM_16X8_SEEDS)[:QEMU_MODELS])
def test_tflm_engine_matches_oracle_16x8(tflm_elf_int16, tmp_path, seed):
    """16x8 models: TFLM's int16 kernels (CMSIS-NN's with a cmsis_nn library) give the oracle's
    bytes through the adapter, which reports the int16 input and output as INT16."""
    model, inputs, expected = oracle_case(seed)
    assert run_on_qemu(tflm_elf_int16, tmp_path, model, inputs) == expected


@pytest.mark.parametrize("path", FIXTURE_MODELS, ids=[p.stem for p in FIXTURE_MODELS])
def test_tflm_engine_runs_committed_models(tflm_elf, tflm_elf_int16, tmp_path, path):
    """The committed INT8 and 16x8 models give the oracle's bytes (16x8 on TFLM_INT16=1's build)."""
    model = path.read_bytes()
    engine = HostEngine(model, arena_size=2 << 20)
    rng = np.random.default_rng(0)
    inputs = [random_inputs(rng, info.dtype, info.shape) for info in engine.inputs]
    expected = b"".join(o.tobytes() for o in oracle_run(model, inputs))
    elf = tflm_elf_int16 if engine.inputs[0].dtype == np.int16 else tflm_elf
    assert run_on_qemu(elf, tmp_path, model, inputs) == expected


@pytest.mark.parametrize("path", FLOAT_MODELS, ids=[p.name for p in FLOAT_MODELS])
def test_tflm_engine_refuses_the_float_twins(tflm_elf, tmp_path, path):
    """The committed float models (float kernels, which TFLM has and the portable engine has
    not) are refused by the adapter with the portable engine's status: UNSUPPORTED_TYPE."""
    model = path.read_bytes()
    with pytest.raises(EngineError) as portable:
        HostEngine(model, arena_size=2 << 20)
    assert portable.value.status_name == "UNSUPPORTED_TYPE"
    assert qemu_exit(tflm_elf, tmp_path, model) == 10 + portable.value.status


# --- refusals: the same status as the portable engine ------------------------------------------

def _fc_model(input_dtype="int8", extra_tensor_dtype=None, version=tb.SCHEMA_VERSION,
              op=BuiltinOp.FULLY_CONNECTED) -> bytes:
    b = ModelBuilder()
    quant = None if input_dtype == "float32" else 0.05
    x = b.add_tensor("x", (1, 8), input_dtype, scale=quant, zero_point=None if quant is None else -3)
    if extra_tensor_dtype is not None:
        b.add_tensor("extra", (3,), extra_tensor_dtype, scale=1.0, zero_point=0)
    if op == BuiltinOp.FULLY_CONNECTED:
        y = b.add_tensor("y", (1, 4), "int8", scale=0.1, zero_point=2)
        w = b.add_const("w", np.arange(-16, 16, dtype=np.int8).reshape(4, 8), scale=0.01, zero_point=0)
        bias = b.add_const("b", np.array([1, -2, 3, -4], np.int32), scale=0.0005, zero_point=0)
        b.add_op(op, [x, w, bias], [y], tb.FullyConnectedOptions(Activation.RELU))
    else:
        y = b.add_tensor("y", (1, 8), "int8", scale=1.0 / 256, zero_point=-128)
        b.add_op(op, [x], [y])
    return b.build(inputs=[x], outputs=[y], version=version)


def _int16_add() -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4), "int16", scale=0.001, zero_point=0)
    y = b.add_tensor("y", (1, 4), "int16", scale=0.002, zero_point=0)
    b.add_op(BuiltinOp.ADD, [x, x], [y], tb.AddOptions())
    return b.build([x], [y])


def _conv16(bias_dtype=np.int64, depthwise=False, input_zp=0) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4, 4, 2), "int16", scale=0.001, zero_point=input_zp)
    w = b.add_const("w", np.ones((1, 3, 3, 2) if depthwise else (2, 3, 3, 2), np.int8), scale=[0.01, 0.02],
                    zero_point=[0, 0], quantized_dimension=3 if depthwise else 0)
    bias = b.add_const("b", np.array([5, -7], bias_dtype), scale=[1e-5, 2e-5], zero_point=[0, 0])
    y = b.add_tensor("y", (1, 4, 4, 2), "int16", scale=0.002, zero_point=0)
    if depthwise:
        b.add_op(BuiltinOp.DEPTHWISE_CONV_2D, [x, w, bias], [y], tb.DepthwiseConv2DOptions(depth_multiplier=1))
    else:
        b.add_op(BuiltinOp.CONV_2D, [x, w, bias], [y], tb.Conv2DOptions())
    return b.build([x], [y])


REFUSED = {  # name: (model, the portable engine's status)
    "truncated": (_fc_model()[:6], "TRUNCATED"),
    "bad_identifier": (_fc_model()[:4] + b"XXXX" + _fc_model()[8:], "BAD_IDENTIFIER"),
    "bad_version": (_fc_model(version=2), "BAD_VERSION"),
    "uint8_tensor": (_fc_model(extra_tensor_dtype="uint8"), "UNSUPPORTED_TYPE"),
    "int16_zero_point": (_conv16(input_zp=3), "BAD_QUANTIZATION"),
    "int16_depthwise_int32_bias": (_conv16(bias_dtype=np.int32, depthwise=True), "UNSUPPORTED_TYPE"),
    "int16_add": (_int16_add(), "UNSUPPORTED_TYPE"),
    "float_fully_connected": (_fc_model(input_dtype="float32"), "UNSUPPORTED_TYPE"),
    "logistic": (_fc_model(op=BuiltinOp.LOGISTIC), "UNSUPPORTED_OP"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_tflm_engine_refuses_like_the_portable_engine(tflm_elf_int16, tmp_path, name):
    """On TFLM_INT16=1's build, which has int16 kernels as the portable engine has."""
    model, status = REFUSED[name]
    with pytest.raises(EngineError) as portable:
        HostEngine(model)
    assert portable.value.status_name == status
    assert qemu_exit(tflm_elf_int16, tmp_path, model) == 10 + portable.value.status


# --- the self-test's build is the firmware's ------------------------------------------------------

@pytest.mark.parametrize("int16", [False, True], ids=["shipped", "TFLM_INT16=1"])
def test_tflm_selftest_compiles_the_adapter_as_the_firmware_does(tmp_path, int16):
    """The firmware's own compile command of engine_tflm.cc (make V=1) has the self-test's flags,
    -DNDEBUG and (with a cmsis_nn library) -DCMSIS_NN among them."""
    import shlex

    from harness.firmware.build import build_firmware

    make_vars = tflm_make_vars(Path(TFLM_DIR), TFLM_RELEASE, int16)
    build_firmware(engine="tflm", build_dir=tmp_path, extra_make_vars={**make_vars, "V": "1"})
    flags = engine_build_flags("tflm", make_vars, build_dir=tmp_path)
    adapter = next(s for s in flags.cxx_sources if s.name == "engine_tflm.cc")
    selftest = compile_commands(flags, tmp_path / "obj")[str(adapter)]
    fw_lines = [shlex.split(line) for line in (tmp_path / "build.log").read_text().splitlines()
                if line.endswith(".o") and f" -c {adapter} " in line]
    assert len(fw_lines) == 1, "make V=1 logged no compile of the adapter"
    firmware = [arg for arg in fw_lines[0] if arg not in ("-MMD", "-MP")]
    assert firmware[:-1] == selftest[:-1]  # all but the object's path
    assert "-DNDEBUG" in selftest and "-DTF_LITE_STRIP_ERROR_STRINGS" in selftest
    assert ("-DHIL_TFLM_INT16" in selftest) == int16
    if "cmsis_nn" in " ".join(flags.ldlibs):
        assert "-DCMSIS_NN" in selftest


# --- the real firmware: ENGINE=tflm APP=pipeline on QEMU ----------------------------------------

@pytest.fixture(scope="module")
def tflm_device(tmp_path_factory):
    from harness.firmware.build import build_firmware
    from harness.targets import running_device

    image = build_firmware(engine="tflm", build_dir=tmp_path_factory.mktemp("firmware-tflm"),
                           extra_make_vars={"TFLM_DIR": TFLM_DIR, "TFLM_RELEASE": "1" if TFLM_RELEASE else "0"})
    assert image.engine == "tflm"
    with running_device("qemu", image) as device:
        yield device


def test_tflm_firmware_pipeline_matches_oracle(tflm_device):
    from harness.device import infer_codes, load_model
    from harness.device.synthetic_models import window_classifier
    from harness.device.oracle import reference_outputs

    client = tflm_device.client
    for seed in (11, 12):
        model_bytes = window_classifier(3, seed=seed)
        model = load_model(client, model_bytes)
        assert model.input.dtype == np.int8 and model.input.shape == (1, 128, 1, 3)
        assert 0 < model.arena_used <= model.arena_size
        codes = np.random.default_rng(seed).integers(-128, 128, size=(16,) + model.input.shape, dtype=np.int8)
        assert np.array_equal(infer_codes(client, codes).outputs, reference_outputs(model_bytes, codes))


def test_tflm_firmware_runs_random_models_like_the_oracle(tflm_device):
    """The seeded random models with one INT8 input and one output, through the shipped build
    (engine.mk's flags: CMSIS-NN's int8 kernels when the library has them)."""
    from harness.device import infer_codes, load_model
    from harness.device.oracle import reference_outputs

    client = tflm_device.client
    ran = 0
    for seed in [*list(RANDOM_SEEDS)[:QEMU_MODELS], *GROUPED_CONV_WITHOUT_BIAS_SEEDS]:
        model_bytes = generated(seed).model
        engine = HostEngine(model_bytes)
        if len(engine.inputs) != 1 or len(engine.outputs) != 1 or engine.inputs[0].dtype != np.int8:
            continue
        model = load_model(client, model_bytes)
        codes = np.random.default_rng(seed).integers(-128, 128, size=(4,) + model.input.shape, dtype=np.int8)
        assert np.array_equal(infer_codes(client, codes).outputs, reference_outputs(model_bytes, codes)), seed
        ran += 1
    assert ran >= QEMU_MODELS // 2


def test_tflm_firmware_refuses_an_unsupported_op(tflm_device):
    from harness.device import load_model
    from harness.device.synthetic_models import unsupported_op_model
    from harness.errors import ModelRejectedError

    with pytest.raises(ModelRejectedError) as caught:
        load_model(tflm_device.client, unsupported_op_model())
    e = caught.value
    assert (e.code_name, e.status, e.op_index, e.engine_detail) == ("MODEL_REJECTED", "UNSUPPORTED_OP", 0, 28)
    assert tflm_device.client.echo(b"alive") == b"alive"


def test_tflm_firmware_refuses_a_float_model(tflm_device):
    """A committed float twin through the shipped firmware: MODEL_REJECTED, UNSUPPORTED_TYPE, as
    the portable engine says (its operator and tensor too)."""
    from harness.device import load_model
    from harness.errors import ModelRejectedError

    model = FLOAT_MODELS[0].read_bytes()
    with pytest.raises(EngineError) as portable:
        HostEngine(model, arena_size=2 << 20)
    with pytest.raises(ModelRejectedError) as caught:
        load_model(tflm_device.client, model)
    e = caught.value
    assert (e.code_name, e.status) == ("MODEL_REJECTED", "UNSUPPORTED_TYPE")
    assert (e.op_index, e.tensor_index) == (portable.value.op_index, portable.value.tensor_index)
    assert tflm_device.client.echo(b"alive") == b"alive"


# --- 16x8 through the real firmware: TFLM_INT16=1 registers CMSIS-NN's int8+int16 kernels ------

@pytest.fixture(scope="module")
def tflm_device_int16(tmp_path_factory):
    from harness.firmware.build import build_firmware
    from harness.targets import running_device

    image = build_firmware(engine="tflm", build_dir=tmp_path_factory.mktemp("firmware-tflm-int16"),
                           extra_make_vars={"TFLM_DIR": TFLM_DIR, "TFLM_RELEASE": "1" if TFLM_RELEASE else "0",
                                            "TFLM_INT16": "1"})
    with running_device("qemu", image) as device:
        yield device


def _single_int16_input_16x8_models():
    for path in (p for p in FIXTURE_MODELS if "16x8" in p.stem):
        yield path.stem, path.read_bytes()
    for seed in list(RANDOM_16X8_SEEDS)[:QEMU_MODELS]:
        engine = HostEngine(generated(seed).model)
        if len(engine.inputs) == 1 and len(engine.outputs) == 1 and engine.inputs[0].dtype == np.int16:
            yield f"seed {seed}", generated(seed).model


def test_tflm_firmware_int16_runs_16x8_models_like_the_oracle(tflm_device_int16):
    from harness.device import infer_codes, load_model
    from harness.device.oracle import reference_outputs

    client = tflm_device_int16.client
    ran = 0
    for name, model_bytes in _single_int16_input_16x8_models():
        model = load_model(client, model_bytes)
        assert model.input.dtype == np.int16, name
        codes = np.random.default_rng(ran).integers(-32768, 32768, size=(3,) + model.input.shape, dtype=np.int16)
        assert np.array_equal(infer_codes(client, codes).outputs, reference_outputs(model_bytes, codes)), name
        ran += 1
    assert ran >= QEMU_MODELS // 2


def test_tflm_firmware_int8_only_refuses_16x8(tflm_device):
    """The shipped int8-only CMSIS-NN build (TFLM_INT16=0) names the int16 tensor it cannot run."""
    from harness.device import load_model
    from harness.errors import ModelRejectedError

    if "cmsis_nn" not in str(Path(TFLM_DIR)) and not list(Path(TFLM_DIR).glob("gen/*cmsis_nn*/lib")):
        pytest.skip("the TFLM library is not a CMSIS-NN build: its generic kernels run int16")
    committed = [p for p in FIXTURE_MODELS if "16x8" in p.stem]
    if not committed:
        pytest.skip("no committed 16x8 model in fixtures/models")
    model = committed[0].read_bytes()
    with pytest.raises(ModelRejectedError) as caught:
        load_model(tflm_device.client, model)
    assert caught.value.status == "UNSUPPORTED_TYPE"
    assert tflm_device.client.echo(b"alive") == b"alive"
