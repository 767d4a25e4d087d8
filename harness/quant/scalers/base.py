"""The Scaler base: fit, transform, inverse, saturation, the affine form the fold consumes, and
the export every kind shares. Kinds subclass it (``affine``, ``clipped``, ``log1p``) and are
registered (``registry``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from harness.errors import ScalerError

AXIS_NAMES = ("ax_g", "ay_g", "az_g")
EXPORT_FORMAT = 1


def _channel_name(index: int, channels: int) -> str:
    return AXIS_NAMES[index] if channels == len(AXIS_NAMES) else f"channel {index}"


def _as_matrix(values, what: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """Flatten to (samples, channels) float64; check it is non-empty and finite."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        raise ScalerError(f"{what} must be an array of samples, got a scalar")
    shape = array.shape
    matrix = array.reshape(-1, 1) if array.ndim == 1 else array.reshape(-1, shape[-1])
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ScalerError(f"{what} is empty (shape {shape}); need at least one sample per channel")
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        value = matrix[row, column]
        raise ScalerError(f"{what} has {int(bad.sum())} non-finite value(s); first is {value} at "
                          f"sample {row}, {_channel_name(column, matrix.shape[1])}")
    return matrix, shape


@dataclass(frozen=True)
class AffineForm:
    """Per output channel j: ``y_j = clip(g[source_axis[j]] * gain[j] + offset[j], clip_lo[j], clip_hi[j])``.

    This is what ``fold`` turns into integer code. Unbounded clips are +-inf.
    """

    gain: np.ndarray
    offset: np.ndarray
    clip_lo: np.ndarray
    clip_hi: np.ndarray
    source_axis: np.ndarray


class Scaler:
    """Base of every scaler. Subclasses set ``name``, ``affine`` and implement the ``_`` hooks."""

    name: ClassVar[str] = ""
    affine: ClassVar[bool] = False
    defaults: ClassVar[dict] = {}
    #: keys of ``self.fitted`` (arrays, one value per input channel)
    fitted_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params):
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ScalerError(f"scaler '{self.name}' has no parameter(s) {', '.join(unknown)}; "
                              f"known: {', '.join(sorted(self.defaults)) or 'none'}")
        self.params = {**self.defaults, **params}
        self._check_params()
        self.fitted: dict[str, np.ndarray] | None = None
        self.input_channels: int | None = None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        state = "fitted" if self.fitted is not None else "unfitted"
        return f"<{type(self).__name__} {self.name}({args}) {state}>"

    # --- public API ---------------------------------------------------------------------

    @property
    def output_channels(self) -> int:
        """Channels ``transform`` produces for each sample (input_channels, or twice for two_stage)."""
        self._require_fitted()
        return self.input_channels * self._channel_factor()

    @property
    def source_axis(self) -> np.ndarray:
        """For each output channel, the input channel (axis) it is computed from."""
        self._require_fitted()
        return np.tile(np.arange(self.input_channels), self._channel_factor())

    def fit(self, calibration_g) -> "Scaler":
        matrix, _ = _as_matrix(calibration_g, f"calibration set for scaler '{self.name}'")
        self.input_channels = matrix.shape[1]
        fitted = self._fit(matrix)
        self.fitted = {k: np.asarray(v, dtype=np.float64) for k, v in fitted.items()}
        return self

    def transform(self, g) -> np.ndarray:
        matrix, shape = self._input(g)
        return self._reshape(self._transform(matrix), shape)

    def fit_transform(self, calibration_g) -> np.ndarray:
        return self.fit(calibration_g).transform(calibration_g)

    def inverse(self, scaled, saturated=None) -> np.ndarray:
        """Back to g. For clipped outputs the result is the clip bound, not the original value.

        ``saturated`` (same shape as ``scaled``, optional) marks clipped output channels; only
        two_stage uses it, to fall back from its fine to its coarse channel.
        """
        self._require_fitted()
        scaled = np.asarray(scaled, dtype=np.float64)
        shape = scaled.shape
        out_channels = self.output_channels
        matrix = scaled.reshape(-1, 1) if scaled.ndim == 1 else scaled.reshape(-1, shape[-1])
        if matrix.shape[1] != out_channels:
            raise ScalerError(f"scaler '{self.name}' inverse expects {out_channels} channels, "
                              f"got {matrix.shape[1]}")
        mask = None
        if saturated is not None:
            mask = np.asarray(saturated, dtype=bool).reshape(matrix.shape)
        g = self._inverse(matrix, mask)
        if scaled.ndim == 1:
            return g.reshape(shape)
        return g.reshape(shape[:-1] + (self.input_channels,))

    def saturation_mask(self, g) -> np.ndarray:
        """True where the scaler's own clip changes the output (same shape as ``transform``)."""
        matrix, shape = self._input(g)
        return self._reshape(self._saturated(matrix), shape)

    def g_per_unit(self, g) -> np.ndarray:
        """Local slope dg/dy at ``g`` for every output channel; inf where the output is clipped.

        Multiplied by the input tensor's scale this is the g width of one code at that point.
        """
        matrix, shape = self._input(g)
        slope = self._g_per_unit(matrix)
        slope = np.where(self._saturated(matrix), np.inf, slope)
        return self._reshape(slope, shape)

    def affine_form(self) -> AffineForm:
        """The scaler as gain/offset/clip per output channel (affine kinds only)."""
        self._require_fitted()
        if not self.affine:
            raise ScalerError(f"scaler '{self.name}' is not affine; it has no gain/offset form "
                              "(fold it with a threshold table instead)")
        return self._affine_form()

    def export(self) -> dict:
        """Parameters as the firmware consumes them: kind, params, fitted float values per channel
        and, for affine kinds, the gain/offset/clip form. The integer-only form is the fold's
        (``harness.quant.fold.export_with_fixed_point``)."""
        self._require_fitted()
        exported = {
            "kind": self.name,
            "format": EXPORT_FORMAT,
            "input_channels": int(self.input_channels),
            "output_channels": int(self.output_channels),
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params.items()},
            "fitted": {k: [float(x) for x in v] for k, v in self.fitted.items()},
        }
        if self.affine:
            form = self._affine_form()
            exported["affine"] = {
                "gain": [float(x) for x in form.gain],
                "offset": [float(x) for x in form.offset],
                "clip_lo": [float(x) for x in form.clip_lo],
                "clip_hi": [float(x) for x in form.clip_hi],
                "source_axis": [int(x) for x in form.source_axis],
            }
        return exported

    @classmethod
    def from_export(cls, exported: dict) -> "Scaler":
        try:
            params = dict(exported.get("params", {}))
            fitted = exported["fitted"]
            channels = int(exported["input_channels"])
        except (KeyError, TypeError, ValueError) as e:
            raise ScalerError(f"exported scaler '{cls.name}' is missing or has a bad field: {e}") from e
        for key, default in cls.defaults.items():
            if isinstance(default, tuple) and key in params and params[key] is not None:
                params[key] = tuple(params[key])
        scaler = cls(**params)
        missing = [k for k in cls.fitted_keys if k not in fitted]
        if missing:
            raise ScalerError(f"exported scaler '{cls.name}' lacks fitted value(s) {missing}")
        scaler.input_channels = channels
        scaler.fitted = {k: np.asarray(fitted[k], dtype=np.float64) for k in cls.fitted_keys}
        for k, v in scaler.fitted.items():
            if v.shape != (channels,) or not np.isfinite(v).all():
                raise ScalerError(f"exported scaler '{cls.name}': '{k}' must be {channels} finite values")
        return scaler

    # --- helpers --------------------------------------------------------------------------

    def _require_fitted(self):
        if self.fitted is None:
            raise ScalerError(f"scaler '{self.name}' is not fitted; call fit(calibration_g) first")

    def _input(self, g):
        self._require_fitted()
        matrix, shape = _as_matrix(g, f"input to scaler '{self.name}'")
        if matrix.shape[1] != self.input_channels:
            raise ScalerError(f"scaler '{self.name}' was fitted on {self.input_channels} channel(s), "
                              f"got {matrix.shape[1]} (shape {shape})")
        return matrix, shape

    def _reshape(self, out: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) == 1:
            return out.reshape(shape) if out.shape[1] == 1 else out
        return out.reshape(shape[:-1] + (out.shape[1],))

    def _channel_factor(self) -> int:
        return 1

    def _check_params(self):
        pass

    def _nonzero_width(self, width: np.ndarray, what: str, values: np.ndarray):
        for c in np.flatnonzero(~(width > 0)):
            raise ScalerError(
                f"scaler '{self.name}': {_channel_name(int(c), len(width))} has zero {what} in the "
                f"calibration set (value {values[c]:.6g} g); a constant channel cannot be scaled - "
                "check the sensor or use a calibration set with motion on every axis")

    # hooks
    def _fit(self, matrix: np.ndarray) -> dict:
        raise NotImplementedError

    def _transform(self, matrix: np.ndarray) -> np.ndarray:
        form = self._affine_form()
        y = matrix[:, form.source_axis] * form.gain + form.offset
        return np.clip(y, form.clip_lo, form.clip_hi)

    def _saturated(self, matrix: np.ndarray) -> np.ndarray:
        if not self.affine:
            return np.zeros((matrix.shape[0], self.output_channels), dtype=bool)
        form = self._affine_form()
        y = matrix[:, form.source_axis] * form.gain + form.offset
        return (y < form.clip_lo) | (y > form.clip_hi)

    def _g_per_unit(self, matrix: np.ndarray) -> np.ndarray:
        form = self._affine_form()
        return np.broadcast_to(1.0 / form.gain, (matrix.shape[0], len(form.gain))).copy()

    def _inverse(self, matrix: np.ndarray, saturated) -> np.ndarray:
        form = self._affine_form()
        return (matrix - form.offset) / form.gain

    def _affine_form(self) -> AffineForm:
        raise NotImplementedError


def unbounded(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """The clip bounds of an unclipped channel: -inf and +inf."""
    return np.full(channels, -np.inf), np.full(channels, np.inf)
