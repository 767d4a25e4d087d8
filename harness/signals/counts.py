"""g -> signed ADC counts: what a digital accelerometer reports, the one conversion every path uses
(the sensor model of the synthetic traces, a recording's windows, the suite's scenario windows,
field replay).

Rounded to nearest (ties to even, as numpy) in float64 whatever the input's dtype, then saturated
at the sensor's full scale. float64 because a window in float32 times a ``counts_per_g`` that is
not a power of two rounds differently by one count now and then; for the power-of-two sensitivities
of every committed sensor (2048, 16384 LSB/g) both are exact and equal.
"""

from __future__ import annotations

import numpy as np

from harness.errors import ConfigError

#: the default sensor (harness.signals.synth.SensorModel, the container recipe's): +-16 g over 16 bits
DEFAULT_FULL_SCALE_G = 16.0
DEFAULT_RESOLUTION_BITS = 16
DEFAULT_COUNTS_PER_G = 2 ** (DEFAULT_RESOLUTION_BITS - 1) / DEFAULT_FULL_SCALE_G   # 2048 LSB/g


def to_counts(g, counts_per_g: float, resolution_bits: int = 16) -> np.ndarray:
    """Acceleration in g -> int16 counts, saturated at [-2**(bits-1), 2**(bits-1) - 1]."""
    if not (np.isfinite(counts_per_g) and counts_per_g > 0):
        raise ConfigError(f"counts_per_g must be finite and > 0, got {counts_per_g}")
    if not 2 <= resolution_bits <= 16:
        raise ConfigError(f"resolution_bits must be 2..16 (int16 counts), got {resolution_bits}")
    top = 2 ** (resolution_bits - 1)
    counts = np.round(np.asarray(g, dtype=np.float64) * counts_per_g)
    return np.clip(counts, -top, top - 1).astype(np.int16)
