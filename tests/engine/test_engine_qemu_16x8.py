"""The 16x8 kernels cross-compiled for Cortex-M4F (firmware flags, -Os, hard float, newlib's
expf for the softmax LUTs) on QEMU's mps2-an386 give tflite_micro's bytes.

HIL_ENGINE_QEMU_16X8_MODELS (default 200) random 16x8 models, one random input each; the
committed 16x8 models run in test_engine_qemu.py with the others.
"""

from __future__ import annotations

import os

import pytest
from engine_cases import RANDOM_16X8_SEEDS, assert_qemu_matches_oracle, needs_qemu, run_on_qemu
from engine_support.qemu_selftest import build_qemu_selftest

QEMU_16X8_MODELS = int(os.environ.get("HIL_ENGINE_QEMU_16X8_MODELS", "200"))

pytestmark = needs_qemu


@pytest.fixture(scope="module")
def selftest_elf():
    return build_qemu_selftest()


@pytest.mark.parametrize("seed", list(RANDOM_16X8_SEEDS)[:QEMU_16X8_MODELS])
def test_cross_compiled_16x8_kernels_match_oracle(selftest_elf, tmp_path, seed):
    assert_qemu_matches_oracle(selftest_elf, tmp_path, seed)


def _text_bytes(elf) -> int:
    import subprocess

    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True).stdout
    return int(out.splitlines()[1].split()[0])


def test_engine_without_int16_kernels_is_smaller_and_refuses_16x8(selftest_elf, tmp_path):
    """ENGINE_INT16=0 (engine.mk): the same self-test without the *_16x8.c / *_int16.c files and
    their op-table rows. It refuses an int16 model with UNSUPPORTED_TYPE and still runs int8 ones;
    the difference in text is what the 16x8 kernels cost in flash."""
    import subprocess

    from engine_cases import RANDOM_SEEDS, oracle_case, qemu_selftest_exit
    from engine_support.qemu_selftest import SELFTEST_DIR

    from harness.engine.build import COMMON_FLAGS, M4_FLAGS, engine_sources

    sources = [p for p in engine_sources()
               if not (p.name.endswith(("_16x8.c", "_int16.c")) or p.name == "pe_int16_common.c")]
    assert len(sources) < len(engine_sources())
    elf = tmp_path / "engine_selftest_no_int16.elf"
    subprocess.run(["arm-none-eabi-gcc", *COMMON_FLAGS, *M4_FLAGS, "-DPE_WITH_INT16=0", "-o", str(elf),
                    *map(str, sources), str(SELFTEST_DIR / "engine_selftest.c"), "-nostartfiles",
                    "--specs=nano.specs", f"-T{SELFTEST_DIR / 'mps2_an386.ld'}", "-Wl,--gc-sections", "-lm"],
                   check=True, capture_output=True, text=True)
    with_int16, without = _text_bytes(selftest_elf), _text_bytes(elf)
    print(f"self-test text: {with_int16} B with the 16x8 kernels, {without} B without "
          f"(+{with_int16 - without} B)")
    assert with_int16 - without > 5000

    model, inputs, _ = oracle_case(RANDOM_16X8_SEEDS[0])
    exit_code = qemu_selftest_exit(elf, tmp_path, model, inputs)
    assert exit_code == 10 + 8, f"exit {exit_code}: expected 10 + UNSUPPORTED_TYPE"
    assert_qemu_matches_oracle(elf, tmp_path, RANDOM_SEEDS[0])


@pytest.mark.parametrize("stride", [1, 2])
def test_cross_compiled_1d_conv_dual_mac_matches_oracle(selftest_elf, tmp_path, stride):
    """The 1-D CONV_2D path with the M4's SMLAD (the host runs its C twin)."""
    import numpy as np
    from engine_cases import oracle_run
    from test_engine_16x8 import conv1d_model

    from harness.engine.tflite_builder import Padding

    for channels, bias_dtype in ((3, np.int64), (1, np.int32), (4, np.int64)):
        model = conv1d_model(stride, bias_dtype, Padding.SAME, channels)
        x = np.random.default_rng(channels).integers(-32768, 32768, (1, 20, 1, channels), dtype=np.int16)
        expected = b"".join(o.tobytes() for o in oracle_run(model, [x]))
        assert run_on_qemu(selftest_elf, tmp_path, model, [x]) == expected
