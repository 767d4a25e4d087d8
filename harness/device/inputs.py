"""Files in, device-ready arrays out: raw windows, input tensors and the preprocessing fold.

- ``.npy`` raw windows: integer sensor counts, shape (n_windows, window_len, axes)
- ``.csv`` / ``.parquet``: a trace in the project's schema (time_s, ax_g, ay_g, az_g, ...), in g,
  or a team's recording read with its bundle's layout (``harness.signals.field.import_recording``);
  cut into windows of the model's length and converted to counts with the sensor's counts_per_g
  (``harness.signals.counts.to_counts``: rounded, saturated at int16). ``RawWindows``
  keeps each window's index, start time and (for a labelled recording) label.
- ``.npy`` input tensors (``--input-codes``): the model's input dtype, (n, *input_shape) or (n, elements)

The fold comes from a JSON file (``harness.models.json_kind`` tells which): a model bundle
(``<name>.json``, its ``scaler``), a scaler export (with or without its ``fixed_point`` form) or a
fold export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ConfigError
from harness.signals.counts import DEFAULT_COUNTS_PER_G, to_counts


@dataclass(frozen=True)
class RawWindows:
    """Device-ready windows and where each came from."""

    counts: np.ndarray             # (n, window_len, axes) int16
    start_s: np.ndarray            # (n,) float64 start time of each window (NaN: unknown)
    labels: np.ndarray | None      # (n,) str: the recording's label of each window, None if unlabelled

    @property
    def index(self) -> np.ndarray:
        return np.arange(len(self.counts), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.counts)


def windows_from_trace(trace, window_len: int, counts_per_g: float, hop: int | None = None,
                       rate_hz: float | None = None) -> RawWindows:
    """A schema trace in g (``import_recording``/``read_trace``) cut into raw count windows."""
    from harness.signals.field import cut_windows
    windows = cut_windows(trace, window_len=window_len, hop=hop, rate_hz=rate_hz)
    labelled = trace.attrs.get("labelled", True)
    return RawWindows(to_counts(windows.samples, counts_per_g), np.asarray(windows.start_s, dtype=np.float64),
                      np.asarray(windows.labels, dtype=str) if labelled else None)


def read_counts_npy(path, window_len: int) -> RawWindows:
    """Raw int16 windows from a .npy of sensor counts (no times or labels: NaN, None)."""
    counts = load_raw_windows(path, window_len)
    return RawWindows(counts, np.full(len(counts), np.nan), None)


def load_raw_windows(path, window_len: int, counts_per_g: float = DEFAULT_COUNTS_PER_G,
                     hop: int | None = None) -> np.ndarray:
    """Raw int16 windows (n, window_len, axes) from .npy counts or a .csv/.parquet trace in g."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        counts = np.load(path, allow_pickle=False)
        if not np.issubdtype(counts.dtype, np.integer):
            raise ConfigError(f"{path}: raw windows must be integer sensor counts, got {counts.dtype} "
                              "(a trace in g goes in a .csv or .parquet file)")
        if counts.ndim != 3 or counts.shape[1] != window_len:
            raise ConfigError(f"{path}: raw windows have shape {counts.shape}; the model wants "
                              f"(n, {window_len}, axes)")
        if counts.size and (counts.min() < -32768 or counts.max() > 32767):
            raise ConfigError(f"{path}: counts outside int16")
        return counts.astype(np.int16)
    if suffix in (".csv", ".parquet"):
        from harness.signals.field import cut_windows
        from harness.signals.io import read_trace
        windows = cut_windows(read_trace(path), window_len=window_len, hop=hop)
        return to_counts(windows.samples, counts_per_g)
    raise ConfigError(f"{path}: unknown input format '{path.suffix}'; use .npy (counts), .csv or .parquet (trace in g)")


def load_input_tensors(path, model) -> np.ndarray:
    """Input tensors for INFER_CODES from a .npy file, checked against the model input."""
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise ConfigError(f"{path}: input tensors (--input-codes) must be a .npy file")
    tensors = np.load(path, allow_pickle=False)
    if tensors.dtype != model.input.dtype:
        raise ConfigError(f"{path}: input tensors are {tensors.dtype}, the model input is {model.input.dtype}")
    if tensors.ndim < 1 or tensors.size % model.input.elements:
        raise ConfigError(f"{path}: shape {tensors.shape} is not a whole number of {model.input.shape} tensors")
    return tensors.reshape((-1,) + model.input.shape)


def fold_from_file(path, model, counts_per_g: float = DEFAULT_COUNTS_PER_G):
    """The fold the device should run for ``model`` (a ModelInfo): from a bundle, a scaler export
    or a fold export. Scalers are folded with the device's input quantization and ``counts_per_g``."""
    from harness.device.preprocess import as_fold
    from harness.errors import QuantizationError, ScalerError
    from harness.models.json_kind import BUNDLE, FOLD_EXPORT, SCALER_EXPORT, json_kind, read_json_kind
    from harness.quant.fold import fold_scaler
    from harness.quant.scalers import from_export
    from harness.quant.tflite import QuantParams
    kind, data = read_json_kind(path)
    if kind == FOLD_EXPORT:
        return as_fold(data)
    export = data.get("scaler") if kind == BUNDLE else data
    if json_kind(export) != SCALER_EXPORT:
        raise ConfigError(f"{path}: the bundle's 'scaler' is not a scaler export ('kind' and 'fitted')")
    try:
        # the input's own type: int8, or int16 codes (zero point 0) for a 16x8 model
        params = QuantParams.for_dtype(model.input.scale, model.input.zero_point, np.dtype(model.input.dtype).name)
        if "fixed_point" in export and params.dtype == "int8":  # a precomputed fold is for int8 codes
            return as_fold(export["fixed_point"])
        scaler = from_export(export)
        return fold_scaler(scaler, params, counts_per_g)
    except (ScalerError, QuantizationError) as e:
        raise ConfigError(f"{path}: scaler cannot be rebuilt: {e}") from e
