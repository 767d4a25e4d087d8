"""The device's preprocessing (docs/protocol.md, "SET_PREPROCESS"): an affine or threshold fold
(harness.quant.fold) encoded as channel records, as many per frame as fit.

    set_preprocess(client, fold)            # a fold, its export, or a scaler export with "fixed_point"
"""

from __future__ import annotations

import struct

from harness.errors import ConfigError
from harness.link.client import DeviceClient
from harness.link.protocol import MsgType

DEFAULT_TIMEOUT_S = 10.0
NEVER_REACHED = 32768   # threshold entry of a code step no int16 count reaches

KIND_AFFINE = 1
KIND_THRESHOLD = 2
KIND_AFFINE16 = 3       # affine channels to int16 codes: a 16x8 model's input (zero point 0)
PREPROCESS_HEADER = struct.Struct("<BBBBB3x")     # kind n_channels n_axes first count
AFFINE_RECORD = struct.Struct("<BBbbiqi")          # axis shift code_min code_max multiplier offset zp
AFFINE16_RECORD = struct.Struct("<BB2xhhiqi")      # axis shift code_min code_max multiplier offset zp
THRESHOLD_HEADER = struct.Struct("<BxhH2x")        # axis code_base n_thresholds


def as_fold(fold_or_export):
    """An AffineFold/ThresholdFold from a fold, its export, or a scaler export with "fixed_point"."""
    from harness.quant.fold import FOLD_KINDS, AffineFold, ThresholdFold, fold_from_export
    if isinstance(fold_or_export, (AffineFold, ThresholdFold)):
        return fold_or_export
    if isinstance(fold_or_export, dict):
        if fold_or_export.get("kind") in FOLD_KINDS:
            return fold_from_export(fold_or_export)
        if "fixed_point" in fold_or_export:
            return fold_from_export(fold_or_export["fixed_point"])
        raise ConfigError("a scaler export needs its fixed-point form: export it with the model's input "
                          "quantization and the sensor's counts_per_g (harness.quant.fold.export_with_fixed_point)")
    raise ConfigError(f"expected a fold or its export, got {type(fold_or_export).__name__}")


def _records(fold) -> tuple[int, list[bytes]]:
    if fold.kind == "affine" and getattr(fold, "code_bits", 8) == 16:
        return KIND_AFFINE16, [
            AFFINE16_RECORD.pack(int(axis), int(shift), int(lo), int(hi), int(mult), int(off), int(fold.zero_point))
            for axis, mult, off, shift, lo, hi in zip(fold.source_axis, fold.multiplier, fold.offset,
                                                      fold.shift, fold.code_min, fold.code_max)]
    if fold.kind == "affine":
        return KIND_AFFINE, [
            AFFINE_RECORD.pack(int(axis), int(shift), int(lo), int(hi), int(mult), int(off), int(fold.zero_point))
            for axis, mult, off, shift, lo, hi in zip(fold.source_axis, fold.multiplier, fold.offset,
                                                      fold.shift, fold.code_min, fold.code_max)]
    records = []
    for axis, row in zip(fold.source_axis, fold.thresholds):
        reached = [int(t) for t in row if int(t) < NEVER_REACHED]  # ascending: the rest never count
        records.append(THRESHOLD_HEADER.pack(int(axis), int(fold.code_base), len(reached)) +
                       struct.pack(f"<{len(reached)}i", *reached))
    return KIND_THRESHOLD, records


def encode_preprocess(fold, max_payload: int) -> list[bytes]:
    """SET_PREPROCESS payloads: as many channel records per frame as fit in ``max_payload``."""
    kind, records = _records(fold)
    n_channels, n_axes = len(records), int(fold.input_channels)
    payloads, first = [], 0
    while first < n_channels:
        count, size = 0, PREPROCESS_HEADER.size
        while first + count < n_channels and (count == 0 or size + len(records[first + count]) <= max_payload):
            size += len(records[first + count])
            count += 1
        payloads.append(PREPROCESS_HEADER.pack(kind, n_channels, n_axes, first, count) +
                        b"".join(records[first:first + count]))
        first += count
    return payloads


def set_preprocess(client: DeviceClient, fold_export, timeout_s: float = DEFAULT_TIMEOUT_S):
    """Configure the device's preprocessing (affine or threshold fold, any channel count); returns
    the fold sent (what ``infer_windows(..., mirror=fold)`` checks the device's codes against).

    The device validates it (zero range, shift range, channel count vs the model input) and
    answers BAD_PREPROCESS naming the channel and the problem; it then has no preprocessing.
    """
    fold = as_fold(fold_export)
    max_payload = client.boot_info.max_payload if client.boot_info else 2048
    for payload in encode_preprocess(fold, max_payload):
        client.request(MsgType.SET_PREPROCESS, payload, timeout_s)
    return fold
