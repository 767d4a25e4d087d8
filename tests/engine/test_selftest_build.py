"""The QEMU self-test and the kernel benchmark compile the engine as the firmware does: their
commands come from engine.mk's print-engine-flags, and every engine source's command equals the
firmware's own (make V=1), less the dependency-file flags. (The tflm adapter's: in
test_engine_tflm.py, which needs a TFLM tree.)"""

from __future__ import annotations

import shlex
import shutil

import pytest
from engine_support.qemu_selftest import DRIVER, compile_commands, engine_build_flags

from harness.firmware.build import build_firmware

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None,
                                reason="arm-none-eabi-gcc or make not installed")


@pytest.mark.parametrize("make_vars", [{}, {"ENGINE_INT16": "0"}], ids=["default", "ENGINE_INT16=0"])
def test_selftest_compiles_the_portable_engine_as_the_firmware_does(tmp_path, make_vars):
    build_firmware(engine="portable", build_dir=tmp_path, extra_make_vars={**make_vars, "V": "1"})
    firmware = {}
    for line in (tmp_path / "build.log").read_text().splitlines():
        args = shlex.split(line) if " -c " in line and line.endswith(".o") else []
        if args:
            firmware[args[args.index("-c") + 1]] = [a for a in args if a not in ("-MMD", "-MP")]
    flags = engine_build_flags("portable", make_vars, build_dir=tmp_path)
    selftest = compile_commands(flags, tmp_path / "obj", driver_defines=["-DHIL_DRIVER_TIMED=1"])
    assert len(flags.c_sources) > 20 and not flags.cxx_sources
    for source in flags.c_sources:
        assert selftest[str(source)][:-1] == firmware[str(source)][:-1], source.name  # all but the object path
    assert "-ffp-contract=off" in selftest[str(flags.c_sources[0])]
    assert ("-DPE_WITH_INT16=0" in selftest[str(flags.c_sources[0])]) == (make_vars.get("ENGINE_INT16") == "0")
    # the driver: the firmware's C flags and its own defines
    assert selftest[str(DRIVER)][:len(flags.cflags) + 2] == [flags.cc, *flags.cflags, "-DHIL_DRIVER_TIMED=1"]
