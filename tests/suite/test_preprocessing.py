"""PREPROCESSING MISMATCH on hand-made codes: what counts, what is tolerated, what is named."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from harness.suite.preprocessing import PREPROCESSING_MISMATCH, check_preprocessing


def _run(declared, device, name="recorded", faulted=None):
    declared = np.asarray(declared, dtype=np.int8)
    device = np.asarray(device, dtype=np.int8)
    return SimpleNamespace(name=name, declared_input_codes=declared, device_input_codes=device,
                           device_fault=np.zeros(len(device), bool) if faulted is None else np.asarray(faulted))


def test_the_fold_is_not_judged_here():
    assert check_preprocessing([SimpleNamespace(declared_input_codes=None)]).status == "fold"


def test_equal_codes_are_ok():
    codes = np.arange(-128, 128, dtype=np.int8).reshape(8, 16, 2)
    check = check_preprocessing([_run(codes, codes)])
    assert (check.status, check.elements, check.differing) == ("OK", 256, 0)


def test_the_field_report_wrap_is_named_at_its_first_window_and_element():
    # the seed's cast: round(y * 255) as int8 - 255 wraps to -1 where TFLite gives 127
    y = np.linspace(0, 1, 2 * 4 * 3).reshape(2, 4, 3)
    declared = np.clip(np.round(y * 255) - 128, -128, 127).astype(np.int8)
    wrapped = np.round(y * 255).astype(np.int64).astype(np.int8)
    check = check_preprocessing([_run(declared, wrapped)])
    assert check.status == PREPROCESSING_MISMATCH and check.max_lsb == 128
    first = check.first[0]
    assert (first["window"], first["element"], first["sample"], first["channel"]) == (0, 0, 0, 0)
    assert (first["expected"], first["actual"]) == (-128, 0)
    assert "recorded window 0 element 0 (sample 0, channel 0): the device fed 0" in check.reason()


def test_off_by_one_codes_are_float_rounding_until_too_many():
    declared = np.zeros((10, 100, 1), np.int8)
    one_off = declared.copy()
    one_off[3, 7, 0] = 1                       # 1 of 1000 elements: 0.1 %, tolerated
    assert check_preprocessing([_run(declared, one_off)]).status == "OK"
    one_off[4, 8, 0] = -1                      # 2 of 1000: over 0.1 %
    check = check_preprocessing([_run(declared, one_off)])
    assert check.status == PREPROCESSING_MISMATCH and check.first[0]["window"] == 3


def test_device_fault_windows_are_left_out():
    declared = np.zeros((2, 4, 1), np.int8)
    device = declared.copy()
    device[1] = 100                            # a window the device never answered (zeros kept aside)
    check = check_preprocessing([_run(declared, device, faulted=[False, True])])
    assert (check.status, check.elements) == ("OK", 4)
