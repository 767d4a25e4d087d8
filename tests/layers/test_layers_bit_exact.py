"""INFER_LAYERS: every intermediate tensor from the device equals tflite_micro's (kPreserveAllTensors),
element for element, on every committed INT8 model and on seeded random models, on QEMU."""

from __future__ import annotations

import numpy as np
import pytest
from engine_support.random_models import random_inputs, random_model

from harness.device import infer_codes, load_model
from harness.errors import DeviceError
from harness.layers import host_layers, infer_layers
from harness.layers.judge import check_against_host
from harness.link.protocol import Capability, MsgType
from harness.paths import MODELS_DIR

FIXTURE_MODELS = sorted(p for p in MODELS_DIR.glob("*.tflite") if not p.name.endswith(".float.tflite"))
RANDOM_SEEDS = range(20_000, 20_030)   # the engine suite's seed base (tests/engine/engine_cases.py)
INPUTS_PER_MODEL = 2
# what the 32 KiB arena and the one-reply model I/O rule refuse; anything else is a failure
CAPACITY_REFUSALS = {"TOO_LARGE", "MODEL_REJECTED"}


def check_model(client, model: bytes, seed: int, what: str) -> list:
    info = load_model(client, model)
    rng = np.random.default_rng(seed)
    dumps = []
    for trial in range(INPUTS_PER_MODEL):
        codes = random_inputs(rng, info.input.dtype, info.input.shape)
        dump = infer_layers(client, codes, model=info)
        check_against_host(dump, host_layers(model, codes), f"{what} input #{trial}: ")
        # the layer run is one inference: its last op's output is INFER_CODES's output
        plain = infer_codes(client, codes[None], model=info)
        assert np.array_equal(dump[len(dump) - 1].values.reshape(info.output.shape), plain.outputs[0])
        dumps.append((dump, int(plain.cost[0])))
    return dumps


def test_info_announces_infer_layers(layers_device):
    assert layers_device.client.info().serves(Capability.INFER_LAYERS)


@pytest.mark.parametrize("path", FIXTURE_MODELS, ids=[p.stem for p in FIXTURE_MODELS])
def test_committed_model_every_layer_is_bit_exact(layers_device, path):
    for dump, invoke_cost in check_model(layers_device.client, path.read_bytes(), 0, path.name):
        assert len(dump) == 7 and dump.cost_unit == "instructions"
        assert all(layer.cost > 0 for layer in dump)
        # per-op brackets add only the agent's per-op calls to one invoke's cost
        assert abs(dump.total_cost - invoke_cost) < 0.001 * invoke_cost
        # CONV_2D #1's 2048-byte output spans two frames (1984 data bytes each at most)
        assert dump[1].values.nbytes > 2048 - 64


def test_random_models_every_layer_is_bit_exact(layers_device):
    ran, refused = [], []
    for seed in RANDOM_SEEDS:
        generated = random_model(seed)
        try:
            check_model(layers_device.client, generated.model, seed, generated.name)
        except DeviceError as e:
            assert e.code_name in CAPACITY_REFUSALS, f"{generated.name}: {e}"
            if e.code_name == "MODEL_REJECTED":
                assert "ARENA_TOO_SMALL" in e.text, f"{generated.name}: {e}"
            refused.append(seed)
            continue
        ran.append(seed)
    assert len(ran) >= 20, f"only {len(ran)} of {len(RANDOM_SEEDS)} random models ran (refused: {refused})"


def test_infer_layers_refuses_a_wrong_input_size(layers_device):
    client = layers_device.client
    info = load_model(client, FIXTURE_MODELS[0].read_bytes())
    with pytest.raises(DeviceError) as caught:
        client.request(MsgType.INFER_LAYERS, bytes(4 + info.input.nbytes - 1))
    assert caught.value.code_name == "SHAPE_MISMATCH" and caught.value.detail == info.input.nbytes
    # the link is still in step
    assert client.echo(b"ok") == b"ok"
