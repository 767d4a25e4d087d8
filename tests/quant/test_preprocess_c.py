"""firmware/src/preprocess/preprocess.c against the Python mirror, bit for bit, all int16 counts,
to int8 codes and to int16 codes (a 16x8 model's input: hil_preprocess_window16)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness.quant.fold import ALL_COUNTS, AffineFold, fold_scaler
from harness.quant.scalers import make_scaler
from harness.quant.tflite import choose_int16_quantization_params, choose_quantization_params

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "firmware" / "src" / "preprocess" / "preprocess.c"
INCLUDE = ROOT / "firmware" / "include"
STRICT = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wmissing-prototypes",
          "-Wstrict-prototypes", "-Wconversion", "-pedantic"]

HIL_CHANNEL_AFFINE, HIL_CHANNEL_THRESHOLD = 1, 2


class Affine(ctypes.Structure):
    _fields_ = [("multiplier", ctypes.c_int32), ("shift", ctypes.c_int32),
                ("offset", ctypes.c_int64), ("zero_point", ctypes.c_int32),
                ("code_min", ctypes.c_int32), ("code_max", ctypes.c_int32)]


class Threshold(ctypes.Structure):
    _fields_ = [("thresholds", ctypes.POINTER(ctypes.c_int32)), ("n_thresholds", ctypes.c_uint32),
                ("code_base", ctypes.c_int32)]


class Map(ctypes.Union):
    _fields_ = [("affine", Affine), ("threshold", Threshold)]


class Channel(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("source_axis", ctypes.c_uint32), ("map", Map)]


@pytest.fixture(scope="module")
def preprocess_lib(tmp_path_factory):
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler (cc) on PATH; install build-essential")
    library = tmp_path_factory.mktemp("preprocess") / "libpreprocess.so"
    result = subprocess.run([compiler, *STRICT, "-O2", "-shared", "-fPIC", f"-I{INCLUDE}",
                             str(SOURCE), "-o", str(library)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lib = ctypes.CDLL(str(library))
    lib.hil_preprocess_window.restype = ctypes.c_int
    lib.hil_preprocess_window.argtypes = [ctypes.POINTER(Channel), ctypes.c_size_t,
                                          ctypes.POINTER(ctypes.c_int16), ctypes.c_size_t,
                                          ctypes.c_size_t, ctypes.POINTER(ctypes.c_int8),
                                          ctypes.c_size_t]
    lib.hil_preprocess_window16.restype = ctypes.c_int
    lib.hil_preprocess_window16.argtypes = [ctypes.POINTER(Channel), ctypes.c_size_t,
                                            ctypes.POINTER(ctypes.c_int16), ctypes.c_size_t,
                                            ctypes.c_size_t, ctypes.POINTER(ctypes.c_int16),
                                            ctypes.c_size_t]
    return lib


def _channels(fold):
    channels = (Channel * len(fold.source_axis))()
    keep = []  # threshold arrays must outlive the call
    for j, axis in enumerate(fold.source_axis):
        channels[j].source_axis = int(axis)
        if isinstance(fold, AffineFold):
            channels[j].kind = HIL_CHANNEL_AFFINE
            channels[j].map.affine = Affine(int(fold.multiplier[j]), int(fold.shift[j]),
                                            int(fold.offset[j]), int(fold.zero_point),
                                            int(fold.code_min[j]), int(fold.code_max[j]))
        else:
            table = np.ascontiguousarray(fold.thresholds[j], dtype=np.int32)
            keep.append(table)
            channels[j].kind = HIL_CHANNEL_THRESHOLD
            channels[j].map.threshold = Threshold(
                table.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), table.size, fold.code_base)
    return channels, keep


def _run(lib, fold, counts):
    channels, keep = _channels(fold)
    counts = np.ascontiguousarray(counts, dtype=np.int16)
    codes = np.zeros((counts.shape[0], len(channels)), dtype=np.int8)
    status = lib.hil_preprocess_window(
        channels, len(channels), counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)),
        counts.shape[0], counts.shape[1], codes.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)),
        codes.size)
    del keep
    return status, codes


def _run16(lib, fold, counts, channels=None, codes_len=None):
    channels, keep = _channels(fold) if channels is None else (channels, [])
    counts = np.ascontiguousarray(counts, dtype=np.int16)
    codes = np.zeros((counts.shape[0], len(channels)), dtype=np.int16)
    status = lib.hil_preprocess_window16(
        channels, len(channels), counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)),
        counts.shape[0], counts.shape[1], codes.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)),
        codes.size if codes_len is None else codes_len)
    del keep
    return status, codes


def _calibration():
    rng = np.random.default_rng(4)
    g = rng.normal([0.1, -0.2, 1.0], [0.7, 0.5, 0.3], size=(3000, 3))
    g[10] = [2.0, -4.0, 9.13]
    return g


@pytest.mark.parametrize("name, params", [("minmax", {}), ("robust", {}), ("robust", {"clip": "none"}),
                                          ("zscore", {}), ("two_stage", {}), ("log1p", {}),
                                          ("log1p", {"knee_g": 0.05})])
@pytest.mark.parametrize("counts_per_g, bias_counts", [(2048.0, 0.0), (16384.0, -211.0)])
def test_c_matches_python_mirror_over_all_counts(preprocess_lib, name, params, counts_per_g,
                                                 bias_counts):
    scaler = make_scaler(name, **params).fit(_calibration())
    y = scaler.transform(_calibration())
    quant = choose_quantization_params(y.min(), y.max())
    fold = fold_scaler(scaler, quant, counts_per_g, bias_counts)
    # each axis walks all 65536 counts, in a different order so axes are not identical
    counts = np.column_stack([ALL_COUNTS, ALL_COUNTS[::-1], np.roll(ALL_COUNTS, 12345)])
    status, codes = _run(preprocess_lib, fold, counts)
    assert status == 0
    np.testing.assert_array_equal(codes, fold.codes(counts))


@pytest.mark.parametrize("name, params", [("minmax", {}), ("robust", {}), ("robust", {"clip": "none"}),
                                          ("zscore", {}), ("two_stage", {})])
@pytest.mark.parametrize("counts_per_g, bias_counts", [(2048.0, 0.0), (16384.0, -211.0)])
def test_c_int16_codes_match_python_mirror_over_all_counts(preprocess_lib, name, params, counts_per_g,
                                                           bias_counts):
    scaler = make_scaler(name, **params).fit(_calibration())
    y = scaler.transform(_calibration())
    fold = fold_scaler(scaler, choose_int16_quantization_params(y.min(), y.max()), counts_per_g, bias_counts)
    assert fold.code_bits == 16
    counts = np.column_stack([ALL_COUNTS, ALL_COUNTS[::-1], np.roll(ALL_COUNTS, 12345)])
    status, codes = _run16(preprocess_lib, fold, counts)
    assert status == 0
    expected = fold.codes(counts)
    assert expected.dtype == np.int16 and (expected.min() < -128 or expected.max() > 127)
    np.testing.assert_array_equal(codes, expected)


def test_c_int16_refuses_threshold_channels_and_int8_only_checks(preprocess_lib):
    scaler = make_scaler("robust").fit(_calibration())
    y = scaler.transform(_calibration())
    fold16 = fold_scaler(scaler, choose_int16_quantization_params(y.min(), y.max()), 2048.0)
    counts = np.zeros((4, 3), dtype=np.int16)
    assert _run16(preprocess_lib, fold16, counts, codes_len=11)[0] == -2     # one code short
    # int16 rails pass the int16 check but not the int8 one (hil_preprocess_window)
    assert _run(preprocess_lib, fold16, counts)[0] == -1
    # a threshold channel has no int16 form
    log1p = make_scaler("log1p").fit(_calibration())
    ly = log1p.transform(_calibration())
    thresholds = fold_scaler(log1p, choose_quantization_params(ly.min(), ly.max()), 2048.0)
    channels, keep = _channels(thresholds)
    assert _run16(preprocess_lib, thresholds, counts, channels=channels)[0] == -1
    del keep
    channels, _ = _channels(fold16)
    channels[0].map.affine.code_min = -32769                                # below the int16 rail
    assert _run16(preprocess_lib, fold16, counts, channels=channels)[0] == -1


def test_c_rejects_bad_parameters(preprocess_lib):
    scaler = make_scaler("minmax").fit(_calibration())
    fold = fold_scaler(scaler, choose_quantization_params(0.0, 1.0), 2048.0)
    counts = np.zeros((4, 3), dtype=np.int16)
    channels, _ = _channels(fold)
    codes = np.zeros(4 * 3 - 1, dtype=np.int8)  # one short
    status = preprocess_lib.hil_preprocess_window(
        channels, 3, counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)), 4, 3,
        codes.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)), codes.size)
    assert status == -2
    channels[1].map.affine.shift = 0
    status, _ = _run(preprocess_lib, fold, counts)
    assert status == 0  # _run rebuilds channels from the fold: still valid
    status = preprocess_lib.hil_preprocess_window(
        channels, 3, counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)), 4, 3,
        codes.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)), 12)
    assert status == -1
    channels[1].map.affine.shift = 20
    channels[2].source_axis = 3
    status = preprocess_lib.hil_preprocess_window(
        channels, 3, counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)), 4, 3,
        codes.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)), 12)
    assert status == -1


def test_c_builds_for_cortex_m4_without_fpu_and_without_helpers(tmp_path):
    compiler = shutil.which("arm-none-eabi-gcc")
    if compiler is None:
        pytest.skip("arm-none-eabi-gcc not installed (Debian package gcc-arm-none-eabi)")
    obj = tmp_path / "preprocess.o"
    subprocess.run([compiler, "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", *STRICT, "-O2",
                    f"-I{INCLUDE}", "-c", str(SOURCE), "-o", str(obj)], check=True)
    nm = shutil.which("arm-none-eabi-nm")
    if nm:
        undefined = subprocess.run([nm, "-u", str(obj)], capture_output=True, text=True).stdout
        assert undefined.strip() == ""  # no soft-float or 64-bit division helpers pulled in
