"""The 16x8 remedy in the suite: output figures on int16 codes, the "<scaler> at 16x8"
recommendation (host figures), flash of the int16 kernels from a linker map, and the cost a 16x8
sibling's run gives its INT8 model (harness.suite.remedy16), on crafted inputs with hand figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

from harness.suite.analysis import Recommendation, output_figures, recommend
from harness.suite.remedy16 import attach_remedy_costs, cost_sentence, device_cost, flash_of_objects

CLASSES = ["normal", "pre_failure", "impact"]

MAP = """Archive member included to satisfy reference by file (symbol)

Discarded input sections

 .text          0x00000000       0x40 /b/obj/src/engine/portable/conv_16x8.c.o

Memory Configuration

Name             Origin             Length             Attributes
FLASH            0x08000000         0x00100000         xr

Linker script and memory map

.text           0x08000000     0x2000
 .text          0x08000000      0x100 /b/obj/src/main.c.o
 .text.pe_conv16_eval
                0x08000100      0x1a4 /b/obj/src/engine/portable/conv_16x8.c.o
                0x08000100                pe_conv16_eval
 .text.pe_softmax16_eval
                0x080002a4       0x60 /b/obj/src/engine/portable/softmax_int16.c.o
 .text          0x08000304        0x0 /b/obj/src/engine/portable/pooling_16x8.c.o
 *fill*         0x08000304        0x4

.rodata         0x08002000      0x300
 .rodata.lut    0x08002000       0x20 /b/obj/src/engine/portable/softmax_int16.c.o
 .rodata        0x08002020       0x10 /b/obj/src/engine/portable/conv.c.o

.data           0x20000000        0x8 load address 0x08002300
 .data          0x20000000        0x4 /b/obj/src/engine/portable/pe_int16_common.c.o

.bss            0x20000008      0x800
 .bss           0x20000008      0x400 /b/obj/src/engine/portable/conv_16x8.c.o

.debug_info     0x00000000     0x9999
 .debug_info    0x00000000     0x5000 /b/obj/src/engine/portable/conv_16x8.c.o
"""


def test_flash_of_the_int16_kernel_objects_from_a_map(tmp_path):
    path = tmp_path / "firmware.map"
    path.write_text(MAP)
    # 0x1a4 + 0x60 (.text) + 0x20 (.rodata) + 0x4 (.data, its load image is flash) = 420 + 96 + 32 + 4;
    # not the discarded 0x40, the .bss 0x400 or the debug info
    assert flash_of_objects(path) == 0x1A4 + 0x60 + 0x20 + 0x4 == 552
    assert flash_of_objects(path, ("conv.c.o",)) == 0x10
    assert flash_of_objects(path, ("nothing*.o",)) is None          # an image without those objects
    assert flash_of_objects(tmp_path / "absent.map") is None


def test_output_figures_on_int16_codes_do_not_wrap():
    # int16 output codes 32767 vs -32768 differ by 65535: in int16 arithmetic that wrapped to -1
    scores = np.array([[1.0, 0.0, 0.0]], dtype=np.float32)
    device = np.array([[32767, -32768, 0]], dtype=np.int16)
    host = np.array([[-32768, -32768, 0]], dtype=np.int16)
    f = output_figures(scores, scores, device, host, np.array([0]), CLASSES)
    assert f["max_lsb"] == 65535 and f["exact_share"] == pytest.approx(2 / 3)


@dataclass
class _Model:
    name: str
    input_dtype: str
    scaler_export: dict
    calibration_g: np.ndarray = None
    scaler_label: str = "minmax"

    @property
    def metadata(self):
        return SimpleNamespace(scaler=self.scaler_export)


@dataclass
class _Scenario:
    cost: np.ndarray
    cost_unit: str = "instructions"


@dataclass
class _Report:
    recommendations: list
    reasons: list = field(default_factory=list)
    device_cost: dict = field(default_factory=dict)


def _result(name, dtype, costs, arena, recommendations=()):
    run = SimpleNamespace(model=_Model(name, dtype, {"kind": "minmax", "min": [0.0]}),
                          scenarios=[_Scenario(np.array(costs))], device_model=SimpleNamespace(arena_used=arena))
    return SimpleNamespace(run=run, report=_Report(list(recommendations)))


def _remedy():
    return Recommendation("minmax at 16x8", 10.9, 1863, "OK", "", input_dtype="int16")


def test_the_sibling_s_run_is_the_remedy_s_cost():
    remedy = _remedy()
    own = _result("minmax", "int8", [100_000, 120_000, 110_000], 6_000, [remedy])
    sibling = _result("minmax_16x8", "int16", [200_000, 180_000, 220_000], 9_500)
    image = SimpleNamespace(build_dir=None, flash_bytes=42_000)
    attach_remedy_costs([own, sibling], image)
    assert own.report.device_cost["instructions_median"] == 110_000
    assert sibling.report.device_cost["arena_bytes"] == 9_500
    assert remedy.cost["model"] == "minmax_16x8"
    assert remedy.cost["at_16x8"]["instructions_median"] == 200_000
    note = own.report.reasons[-1]
    assert note.startswith("minmax at 16x8 (1863 codes, 10.9 bits, OK): measured on this device as minmax_16x8")
    assert "+82% instructions per inference (110000 -> 200000)" in note
    assert "+3500 B of arena (6000 -> 9500)" in note
    # idempotent: attaching again (the session does after every model) keeps one note
    attach_remedy_costs([own, sibling], image)
    assert sum(r.startswith("minmax at 16x8") for r in own.report.reasons) == 1


def test_without_a_sibling_the_note_says_how_to_measure_it_and_is_replaced_later():
    remedy = _remedy()
    own = _result("minmax", "int8", [100], 10, [remedy])
    attach_remedy_costs([own])
    assert remedy.cost is None
    assert "hil train --only minmax_16x8" in own.report.reasons[-1]
    sibling = _result("minmax_16x8", "int16", [150], 20)
    attach_remedy_costs([own, sibling])
    assert len(own.report.reasons) == 1 and "measured on this device as minmax_16x8" in own.report.reasons[0]


def test_a_sibling_needs_the_same_fitted_scaler():
    remedy = _remedy()
    own = _result("minmax", "int8", [100], 10, [remedy])
    other = _result("robust_16x8", "int16", [150], 20)
    other.run.model.scaler_export = {"kind": "robust"}
    attach_remedy_costs([own, other])
    assert remedy.cost is None


def test_flash_part_of_the_sentence(tmp_path):
    (tmp_path / "firmware.map").write_text(MAP)
    run = SimpleNamespace(scenarios=[_Scenario(np.array([5, 7, 9]))], device_model=None)
    cost = device_cost(run, SimpleNamespace(build_dir=tmp_path, flash_bytes=10_000))
    assert cost == {"instructions_median": 7.0, "cost_unit": "instructions", "arena_bytes": None,
                    "flash_bytes": 10_000, "flash_without_int16_kernels": None, "int16_kernel_bytes": 552}
    own = dict(cost, instructions_median=5.0, arena_bytes=100)
    remedy = dict(cost, arena_bytes=300, flash_without_int16_kernels=9_300)
    sentence = cost_sentence(own, remedy, "x_16x8")
    assert "+40% instructions" in sentence and "+200 B of arena" in sentence
    assert ("+700 B of flash for the int16 kernels (image 10000 B, 9300 B built without them, ENGINE_INT16=0; "
            "552 B of it the kernel objects)") in sentence
    assert "flash" not in cost_sentence(own, cost, "x_16x8")      # no build without them: not claimed


def test_the_image_without_int16_kernels_is_built_and_smaller(tmp_path):
    """The real build: the portable engine with and without ENGINE_INT16 (arm-none-eabi-gcc)."""
    import shutil
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed (Debian package gcc-arm-none-eabi)")
    from harness.firmware.build import build_firmware
    from harness.suite.remedy16 import flash_without_int16_kernels
    image = build_firmware(engine="portable", build_dir=tmp_path / "with")
    without = flash_without_int16_kernels(image)
    kernels = flash_of_objects(tmp_path / "with" / "firmware.map")
    assert (tmp_path / "with-no-int16" / "firmware.elf").is_file()
    assert kernels is not None and kernels > 1000
    assert image.flash_bytes - without >= kernels          # the switch drops at least the kernel objects
    assert flash_of_objects(tmp_path / "with-no-int16" / "firmware.map") is None


def test_recommend_lists_the_same_scaler_at_16x8_beside_the_others():
    rng = np.random.default_rng(2)
    calibration = rng.normal([0.0, 0.0, 1.0], [0.4, 0.3, 0.2], size=(4000, 3))
    calibration[5] = [1.0, -2.0, 9.13]
    model = SimpleNamespace(input_dtype="int8", calibration_g=calibration, scaler_label="minmax")
    band_g = rng.normal([0.0, 0.0, 1.0], [0.4, 0.3, 0.2], size=(3000, 3))
    from harness.quant.metrics import Band
    from harness.quant.verdict import VerdictThresholds
    out = recommend(model, band_g, Band(0.2, 1.5), VerdictThresholds())
    wide = [r for r in out if r.input_dtype == "int16"]
    assert [r.spec for r in wide] == ["minmax at 16x8"]
    int8_minmax = next(r for r in out if r.spec == "minmax")
    assert int8_minmax.status == "COLLAPSED" and wide[0].status == "OK"
    assert wide[0].codes_used > 10 * int8_minmax.codes_used
    # the others are at the model's own input type
    assert all(r.input_dtype == "int8" for r in out if r is not wide[0])
