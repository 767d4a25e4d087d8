"""Scalers fitted on a calibration set, from acceleration in g to the model's float input.

Registry, not an if-chain: ``make_scaler(name, **params)`` builds any registered kind;
``from_export(d)`` rebuilds a fitted scaler from its exported dict.

Shapes. ``fit`` takes a calibration set of shape (n,), (n, channels) or
(n_windows, window_len, channels); channels is the last axis (3 for ax, ay, az). ``transform``
keeps every leading axis and maps the last axis from ``input_channels`` to ``output_channels``
(equal, except ``two_stage``, which doubles it: 3 -> 6). Values are float64.

Kinds (per input channel c, x in g):

==========  ==============================================================  ======  =========
kind        output                                                          affine  clip
==========  ==============================================================  ======  =========
minmax      (x - min_c) / (max_c - min_c)                                   yes     none
robust      (x - median_c) / IQR_c, then clip to [clip_lo, clip_hi]         yes     "iqr"/none
zscore      (x - mean_c) / std_c (population std, as scikit-learn)          yes     optional
log1p       sign(x - c) * log1p(|x - c| / knee_g), c = median_c or 0        no      none
two_stage   fine_c   = clip((x - median_c) / fine_halfwidth_c, -1, 1)       yes     fine only
            coarse_c = clip(x / full_scale_g, -1, 1)
==========  ==============================================================  ======  =========

Why clip matters: every affine scaler followed by an INT8 input whose range is calibrated on the
scaled data (TFLite post-training quantization) produces the *same* codes as min-max; only the
range the quantizer sees changes the resolution. Robust scaling helps because its clip policy
keeps an 8 g shock from stretching that range, not because of the median/IQR themselves.

two_stage output channel order is [fine_0 .. fine_{C-1}, coarse_0 .. coarse_{C-1}]: a fine
channel that resolves the normal band and saturates on impacts, and a coarse channel that keeps
the impact amplitude up to the sensor's full scale. Both live in [-1, 1] so that one per-tensor
int8 scale (TFLite input tensors have one) serves all six channels.
"""

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


# --- registry ---------------------------------------------------------------------------------

_REGISTRY: dict[str, type[Scaler]] = {}


def register_scaler(cls: type[Scaler]) -> type[Scaler]:
    if not cls.name or cls.name in _REGISTRY:
        raise ScalerError(f"scaler name '{cls.name}' is empty or already registered")
    _REGISTRY[cls.name] = cls
    return cls


def scaler_names() -> list[str]:
    return sorted(_REGISTRY)


def scaler_class(name: str) -> type[Scaler]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ScalerError(f"unknown scaler '{name}'; known scalers: {', '.join(scaler_names())}") from None


def make_scaler(name: str, **params) -> Scaler:
    """A new, unfitted scaler of the registered kind ``name``."""
    return scaler_class(name)(**params)


def from_export(exported: dict) -> Scaler:
    """Rebuild a fitted scaler from ``Scaler.export()``."""
    if not isinstance(exported, dict) or "kind" not in exported:
        raise ScalerError("exported scaler must be a dict with a 'kind' field")
    if exported.get("format", EXPORT_FORMAT) != EXPORT_FORMAT:
        raise ScalerError(f"exported scaler format {exported.get('format')} is not {EXPORT_FORMAT}")
    return scaler_class(exported["kind"]).from_export(exported)


def parse_scaler_spec(spec: str) -> Scaler:
    """``"robust"`` or ``"robust:clip_lo=-1,clip_hi=1"`` or ``"zscore:clip=none"`` -> unfitted scaler."""
    name, _, args = spec.partition(":")
    cls = scaler_class(name.strip())
    params = {}
    for item in filter(None, (a.strip() for a in args.split(","))):
        key, sep, text = item.partition("=")
        if not sep:
            raise ScalerError(f"scaler option '{item}' in '{spec}' is not key=value")
        key = key.strip()
        default = cls.defaults.get(key)
        text = text.strip()
        if text.lower() == "none":
            params[key] = None if not isinstance(default, str) else "none"
        elif isinstance(default, str):
            params[key] = text
        else:
            try:
                params[key] = float(text)
            except ValueError as e:
                raise ScalerError(f"scaler option {key}={text} in '{spec}' is not a number") from e
    return cls(**params)


# --- kinds ------------------------------------------------------------------------------------

def _unbounded(channels: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(channels, -np.inf), np.full(channels, np.inf)


@register_scaler
class MinMaxScaler(Scaler):
    """(x - min) / (max - min) per channel: the calibration set maps onto [0, 1]."""

    name = "minmax"
    affine = True
    fitted_keys = ("data_min_g", "data_max_g")

    def _fit(self, matrix):
        data_min = matrix.min(axis=0)
        data_max = matrix.max(axis=0)
        self._nonzero_width(data_max - data_min, "range (max - min)", data_min)
        return {"data_min_g": data_min, "data_max_g": data_max}

    def _transform(self, matrix):
        # The textbook form, so results match (x - min) / range to the last bit.
        f = self.fitted
        return (matrix - f["data_min_g"]) / (f["data_max_g"] - f["data_min_g"])

    def _affine_form(self):
        f = self.fitted
        width = f["data_max_g"] - f["data_min_g"]
        lo, hi = _unbounded(self.input_channels)
        return AffineForm(1.0 / width, -f["data_min_g"] / width, lo, hi, self.source_axis)


class _ClippedAffine(Scaler):
    """(x - center) / width, then an explicit clip policy: 'none' or clip to [clip_lo, clip_hi]."""

    affine = True
    fitted_keys = ("center_g", "width_g")
    clip_policies = ("none", "clip")

    def _check_params(self):
        clip = self.params["clip"]
        if clip not in self.clip_policies:
            raise ScalerError(f"scaler '{self.name}': clip policy must be one of "
                              f"{', '.join(self.clip_policies)}, got {clip!r}")
        if clip != "none":
            lo, hi = self.params["clip_lo"], self.params["clip_hi"]
            if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ScalerError(f"scaler '{self.name}': need finite clip_lo < clip_hi, got "
                                  f"[{lo}, {hi}]")

    def _transform(self, matrix):
        f = self.fitted
        y = (matrix - f["center_g"]) / f["width_g"]
        if self.params["clip"] != "none":
            y = np.clip(y, self.params["clip_lo"], self.params["clip_hi"])
        return y

    def _affine_form(self):
        f = self.fitted
        channels = self.input_channels
        if self.params["clip"] == "none":
            lo, hi = _unbounded(channels)
        else:
            lo = np.full(channels, float(self.params["clip_lo"]))
            hi = np.full(channels, float(self.params["clip_hi"]))
        return AffineForm(1.0 / f["width_g"], -f["center_g"] / f["width_g"], lo, hi, self.source_axis)


@register_scaler
class RobustScaler(_ClippedAffine):
    """(x - median) / IQR per channel, as scikit-learn's RobustScaler, plus a clip policy.

    Default: clip to [-4, 4] IQR around the median, which keeps a shock from setting the INT8
    range while leaving the normal band's peaks (up to ~3 IQR for a vibration whose level wanders
    over the band) unclipped. ``clip="none"`` is scikit-learn's behaviour (and collapses like
    min-max); a tight clip such as [-1, 1] saturates the band instead.
    """

    name = "robust"
    defaults = {"quantile_lo": 25.0, "quantile_hi": 75.0,
                "clip": "clip", "clip_lo": -4.0, "clip_hi": 4.0}

    def _check_params(self):
        super()._check_params()
        lo, hi = self.params["quantile_lo"], self.params["quantile_hi"]
        if not (0.0 <= lo < hi <= 100.0):
            raise ScalerError(f"scaler 'robust': need 0 <= quantile_lo < quantile_hi <= 100, "
                              f"got {lo}, {hi}")

    def _fit(self, matrix):
        q_lo, median, q_hi = np.percentile(
            matrix, [self.params["quantile_lo"], 50.0, self.params["quantile_hi"]], axis=0)
        self._nonzero_width(q_hi - q_lo, "interquantile range", median)
        return {"center_g": median, "width_g": q_hi - q_lo}


@register_scaler
class ZScoreScaler(_ClippedAffine):
    """(x - mean) / std per channel (population std), as scikit-learn's StandardScaler."""

    name = "zscore"
    defaults = {"clip": "none", "clip_lo": -4.0, "clip_hi": 4.0}

    def _fit(self, matrix):
        mean = matrix.mean(axis=0)
        std = matrix.std(axis=0)
        self._nonzero_width(std, "standard deviation", mean)
        return {"center_g": mean, "width_g": std}


@register_scaler
class Log1pScaler(Scaler):
    """sign(x - c) * log1p(|x - c| / knee_g): linear below the knee, logarithmic above; odd
    around c, so signed acceleration keeps its sign. c is the per-axis calibration median
    (``center="median"``, default: removes gravity and bias, which a log would otherwise squash
    the z axis around) or 0 (``center="none"``, the plain sign-preserving log1p). Not affine; the
    firmware uses a threshold table (see fold)."""

    name = "log1p"
    affine = False
    defaults = {"knee_g": 0.2, "center": "median"}
    fitted_keys = ("center_g", "knee_g")

    def _check_params(self):
        knee = self.params["knee_g"]
        if knee is None or not np.isfinite(knee) or knee <= 0:
            raise ScalerError(f"scaler 'log1p': knee_g must be finite and > 0, got {knee}")
        if self.params["center"] not in ("median", "none"):
            raise ScalerError(f"scaler 'log1p': center must be 'median' or 'none', "
                              f"got {self.params['center']!r}")

    def _fit(self, matrix):
        center = (np.median(matrix, axis=0) if self.params["center"] == "median"
                  else np.zeros(matrix.shape[1]))
        return {"center_g": center, "knee_g": np.full(matrix.shape[1], float(self.params["knee_g"]))}

    def _transform(self, matrix):
        centred = matrix - self.fitted["center_g"]
        return np.sign(centred) * np.log1p(np.abs(centred) / self.fitted["knee_g"])

    def _g_per_unit(self, matrix):
        return self.fitted["knee_g"] + np.abs(matrix - self.fitted["center_g"])

    def _inverse(self, matrix, saturated):
        return self.fitted["center_g"] + np.sign(matrix) * self.fitted["knee_g"] * np.expm1(np.abs(matrix))


@register_scaler
class TwoStageScaler(Scaler):
    """Fine channel for the normal band plus coarse channel for impacts (3 -> 6 channels).

    fine   = clip((x - median) / fine_halfwidth_g, -1, 1); the half-width is fitted as the
             ``fine_quantile`` percentile of |x - median| unless given (shocks are rare, so they do
             not move it);
    coarse = clip(x / full_scale_g, -1, 1), full_scale_g being the sensor's range.
    """

    name = "two_stage"
    affine = True
    defaults = {"fine_halfwidth_g": None, "fine_quantile": 99.9, "full_scale_g": 16.0}
    fitted_keys = ("center_g", "fine_halfwidth_g", "full_scale_g")

    def _check_params(self):
        p = self.params
        if p["fine_halfwidth_g"] is not None and not (np.isfinite(p["fine_halfwidth_g"])
                                                       and p["fine_halfwidth_g"] > 0):
            raise ScalerError(f"scaler 'two_stage': fine_halfwidth_g must be > 0, got {p['fine_halfwidth_g']}")
        if not (0.0 < p["fine_quantile"] <= 100.0):
            raise ScalerError(f"scaler 'two_stage': fine_quantile must be in (0, 100], got {p['fine_quantile']}")
        if p["full_scale_g"] is None or not (np.isfinite(p["full_scale_g"]) and p["full_scale_g"] > 0):
            raise ScalerError(f"scaler 'two_stage': full_scale_g must be > 0, got {p['full_scale_g']}")

    def _channel_factor(self):
        return 2

    def _fit(self, matrix):
        center = np.median(matrix, axis=0)
        if self.params["fine_halfwidth_g"] is not None:
            halfwidth = np.full(matrix.shape[1], float(self.params["fine_halfwidth_g"]))
        else:
            halfwidth = np.percentile(np.abs(matrix - center), self.params["fine_quantile"], axis=0)
            self._nonzero_width(halfwidth, "spread around the median", center)
        full_scale = np.full(matrix.shape[1], float(self.params["full_scale_g"]))
        return {"center_g": center, "fine_halfwidth_g": halfwidth, "full_scale_g": full_scale}

    def _affine_form(self):
        f = self.fitted
        channels = self.input_channels
        gain = np.concatenate([1.0 / f["fine_halfwidth_g"], 1.0 / f["full_scale_g"]])
        offset = np.concatenate([-f["center_g"] / f["fine_halfwidth_g"], np.zeros(channels)])
        return AffineForm(gain, offset, np.full(2 * channels, -1.0), np.full(2 * channels, 1.0),
                          self.source_axis)

    def _transform(self, matrix):
        f = self.fitted
        fine = np.clip((matrix - f["center_g"]) / f["fine_halfwidth_g"], -1.0, 1.0)
        coarse = np.clip(matrix / f["full_scale_g"], -1.0, 1.0)
        return np.concatenate([fine, coarse], axis=1)

    def _inverse(self, matrix, saturated):
        f = self.fitted
        channels = self.input_channels
        fine, coarse = matrix[:, :channels], matrix[:, channels:]
        if saturated is None:
            fine_clipped = np.abs(fine) >= 1.0
        else:
            fine_clipped = saturated[:, :channels]
        from_fine = f["center_g"] + fine * f["fine_halfwidth_g"]
        from_coarse = coarse * f["full_scale_g"]
        return np.where(fine_clipped, from_coarse, from_fine)
