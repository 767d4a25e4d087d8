"""A team's own preprocessing, judged against the one its bundle declares.

The harness's firmware runs the harness's fold (SET_PREPROCESS), checked bit for bit against its
host mirror; a mismatch there is a harness fault and raises. A team's firmware (INFO CAPABILITIES
without SET_PREPROCESS) runs its own C: the suite then computes what the bundle says the model
input should be - the declared scaler on ``counts / counts_per_g``, quantized as TFLite's
QUANTIZE does - and compares it with the input tensor the device actually fed its model. A
difference is a finding about the team's firmware, PREPROCESSING MISMATCH, reported apart from
model collapse and from device faults.

A float pipeline in C (float32) and the host's (float64 scaling, float32 quantization) can land
on either side of a rounding boundary: an element off by one code is tolerated while such
elements stay under ``OFF_BY_ONE_SHARE`` of the total; anything further off is a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.quant.tflite import quantize

PREPROCESSING_MISMATCH = "PREPROCESSING MISMATCH"
OFF_BY_ONE_SHARE = 0.001
LISTED = 5


def declared_codes(model, g: np.ndarray) -> np.ndarray:
    """(n, window_len, channels) int8 (int16 for a 16x8 model): the bundle's declared preprocessing of windows in g."""
    return quantize(model.scaler.transform(g), model.input_params)


@dataclass
class PreprocessingCheck:
    status: str                    # "OK", PREPROCESSING MISMATCH, or "fold" (the harness's own, checked bit for bit)
    elements: int = 0
    differing: int = 0
    off_by_one: int = 0
    max_lsb: int = 0
    first: list = field(default_factory=list)   # {scenario, window, element, sample, channel, expected, actual}

    @property
    def mismatch(self) -> bool:
        return self.status == PREPROCESSING_MISMATCH

    def reason(self) -> str:
        if self.status == "fold":
            return "the harness's fold preprocessing (SET_PREPROCESS), bit-exact with its host mirror"
        share = f"{self.differing} of {self.elements} input elements differ from the bundle's declared preprocessing"
        if not self.mismatch:
            return (f"the device's own preprocessing matches the bundle's ({share}, each by one code: float "
                    "rounding)" if self.differing else "the device's own preprocessing matches the bundle's, exactly")
        f = self.first[0]
        return (f"{PREPROCESSING_MISMATCH}: {share} (max {self.max_lsb} codes); first: {f['scenario']} window "
                f"{f['window']} element {f['element']} (sample {f['sample']}, channel {f['channel']}): the device fed "
                f"{f['actual']}, the bundle's scaler gives {f['expected']} - the firmware's preprocessing is not "
                "what the bundle declares (a cast that wraps, a constant copied wrong, another scaler)")

    def to_dict(self) -> dict:
        return {"status": self.status, "elements": self.elements, "differing": self.differing,
                "off_by_one": self.off_by_one, "max_lsb": self.max_lsb, "first": list(self.first)}


def check_preprocessing(scenario_runs) -> PreprocessingCheck:
    """Compare each scenario's device input codes with its declared codes (None: the fold)."""
    runs = [s for s in scenario_runs if s.declared_input_codes is not None]
    if not runs:
        return PreprocessingCheck("fold")
    check = PreprocessingCheck("OK")
    for s in runs:
        device = s.device_input_codes.astype(np.int32)
        expected = s.declared_input_codes.astype(np.int32)
        keep = ~s.device_fault
        difference = np.abs(device - expected)[keep]
        check.elements += int(difference.size)
        check.differing += int((difference > 0).sum())
        check.off_by_one += int((difference == 1).sum())
        check.max_lsb = max(check.max_lsb, int(difference.max()) if difference.size else 0)
        windows = np.flatnonzero(keep)
        for w, flat in np.argwhere(difference.reshape(len(windows), -1) > 1)[:LISTED - len(check.first)]:
            sample, channel = divmod(int(flat), device.shape[-1])
            window = int(windows[w])
            check.first.append({"scenario": s.name, "window": window, "element": int(flat), "sample": sample,
                                "channel": channel, "expected": int(expected[window].reshape(-1)[flat]),
                                "actual": int(device[window].reshape(-1)[flat])})
    too_many_off_by_one = check.elements and check.off_by_one > OFF_BY_ONE_SHARE * check.elements
    if check.max_lsb > 1 or too_many_off_by_one:
        check.status = PREPROCESSING_MISMATCH
        if not check.first:   # only off-by-one elements, too many of them: list those
            for s in runs:
                diff = np.abs(s.device_input_codes.astype(np.int32) - s.declared_input_codes.astype(np.int32))
                for w, flat in np.argwhere(diff.reshape(len(diff), -1) > 0)[:LISTED]:
                    sample, channel = divmod(int(flat), diff.shape[-1])
                    check.first.append({"scenario": s.name, "window": int(w), "element": int(flat), "sample": sample,
                                        "channel": channel,
                                        "expected": int(s.declared_input_codes[w].reshape(-1)[flat]),
                                        "actual": int(s.device_input_codes[w].reshape(-1)[flat])})
                if check.first:
                    break
    return check
