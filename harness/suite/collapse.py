"""Collapse measured on the device's own input codes.

harness.quant.metrics.band_metrics quantizes a trace on the host; here the codes are the ones the
device fed its model (INFER_WINDOW replies), so the figures describe what ran. The definitions are
band_metrics' own (band membership by |g| per axis, distinct codes and log2 of them, g per code,
SQNR of the reconstruction, saturation by the scaler's clip or the int8 rails); given the host's
codes, ``codes_band_metrics`` returns band_metrics' result exactly (tests/suite check it): it is
band_metrics with the device's codes passed in.
"""

from __future__ import annotations

import numpy as np

from harness.errors import TraceError
from harness.quant.metrics import Band, ScalerMetrics, band_metrics
from harness.quant.tflite import QuantParams


def codes_band_metrics(scaler, params: QuantParams, g, codes, band: Band, label: str | None = None
                       ) -> ScalerMetrics:
    """Band figures of samples ``g`` (n, axes) whose input codes were ``codes`` (n, channels)."""
    g = np.asarray(g, dtype=np.float64).reshape(-1, scaler.input_channels)
    if len(g) == 0:
        raise TraceError("no samples to measure")
    return band_metrics(scaler, params, g, band, label=label, codes=codes)


def window_code_stats(codes: np.ndarray, params: QuantParams) -> dict[str, np.ndarray]:
    """Per window (codes (n, ..., channels)): fewest distinct codes on any channel, lowest and
    highest code, share of codes on a rail of the input type (int8, int16)."""
    n = codes.shape[0]
    flat = codes.reshape(n, -1, codes.shape[-1]).astype(np.int32)
    distinct = np.array([[len(np.unique(w[:, c])) for c in range(w.shape[1])] for w in flat])
    rails = (flat <= params.qmin) | (flat >= params.qmax)
    return {"codes_distinct_min": distinct.min(axis=1), "code_min": flat.min(axis=(1, 2)),
            "code_max": flat.max(axis=(1, 2)), "rail_share": rails.mean(axis=(1, 2))}
