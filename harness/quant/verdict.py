"""OK / DEGRADED / COLLAPSED, with a reason a person can act on.

Default thresholds, in the terms of an 8-bit input:

* resolution: the band should keep at least 6 of the 8 bits (>= 64 codes); 5.5 to 6 bits is
  DEGRADED and below 5.5 bits (< 46 codes; the field report's 43 codes are here) COLLAPSED.
  On `hil analyze`'s shock-calibrated trace min-max leaves the band 33 codes (5.0 bits) and
  log1p 92 (6.5 bits); the committed log1p model keeps its float accuracy in INT8 while the
  min-max model's normal recall falls from 0.985 to 0.09. Code counts are a screen, not proof:
  what breaks a model is a code step larger than the feature it must see (the min-max model's
  0.038 g step against a 0.02-0.04 g defect), so the HIL suite also judges the device's outputs.
* saturation, the opposite failure: more than 0.5 % of band samples clipped is DEGRADED, more
  than 5 % is COLLAPSED (the clip range is narrower than the band).
* SQNR over the band (signal = band samples minus their mean): below 30 dB DEGRADED, below 20 dB
  COLLAPSED. It catches what code counts miss, such as clipping error.

* relative, so that the thresholds above are not the only judges (they were set on the
  fixtures): the share of the INT8 range the band gets (``ScalerMetrics.band_share``: under 0.20,
  the range is over 5x the band, DEGRADED; under 0.15, over 6.7x, COLLAPSED - the field report's
  "allocates 90 % of those values to an outlier"), and, when the caller gives it, the bits lost
  against the best registered scaler fitted on the same calibration data (2 bits, a quarter of
  its codes: DEGRADED; 2.5 bits COLLAPSED).

An int16 input (16x8 model, 65536 codes) is judged by the same rules. The code-count, saturation
and SQNR thresholds are absolute, so they stand as they are. The band-share thresholds are shares
of an 8-bit input, i.e. capacities of 0.15 x 256 = 38 and 0.20 x 256 = 51 codes; at another
width they are applied as those capacities (share x levels), so a band that gets 1 % of int16's
range (655 codes) is not called collapsed for the share an outlier takes.

The verdict is the worst of the rules; every failing rule contributes a reason. Remedies are
named only when the caller computed them on the same data (``remedies``).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.quant.metrics import ScalerMetrics

OK, DEGRADED, COLLAPSED = "OK", "DEGRADED", "COLLAPSED"
_RANK = {OK: 0, DEGRADED: 1, COLLAPSED: 2}
SHARE_REFERENCE_LEVELS = 256   # the band-share thresholds are shares of an 8-bit input
TYPE_NAMES = {"int8": "INT8", "int16": "int16"}


@dataclass(frozen=True)
class VerdictThresholds:
    collapsed_bits: float = 5.5
    degraded_bits: float = 6.0
    collapsed_saturation: float = 0.05
    degraded_saturation: float = 0.005
    collapsed_sqnr_db: float = 20.0
    degraded_sqnr_db: float = 30.0
    collapsed_band_share: float = 0.15
    degraded_band_share: float = 0.20
    collapsed_bits_lost: float = 2.5
    degraded_bits_lost: float = 2.0


@dataclass(frozen=True)
class Best:
    """The best registered scaler on the same calibration data and band samples."""

    spec: str
    effective_bits: float
    codes_used: int


@dataclass(frozen=True)
class Verdict:
    status: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def to_dict(self) -> dict:
        return {"status": self.status, "reasons": list(self.reasons)}


def judge(metrics: ScalerMetrics, thresholds: VerdictThresholds = VerdictThresholds(),
          best: Best | None = None, remedies: list[str] | None = None) -> Verdict:
    m, t = metrics, thresholds
    findings: list[tuple[str, str]] = []
    band = f"{m.band} band"

    def level(value, collapsed, degraded, below=True):
        if below:
            return COLLAPSED if value < collapsed else DEGRADED if value < degraded else OK
        return COLLAPSED if value > collapsed else DEGRADED if value > degraded else OK

    hint = (f" - try {', '.join(remedies)}" if remedies else "")
    too_narrow = m.range_ratio < 1.0
    kind = TYPE_NAMES.get(m.input_params.dtype, m.input_params.dtype)
    status = level(m.effective_bits, t.collapsed_bits, t.degraded_bits)
    # shares of an 8-bit input, applied as capacities in codes at any input width
    capacity = SHARE_REFERENCE_LEVELS / m.levels
    share_status = OK if too_narrow or m.band_share != m.band_share else \
        level(m.band_share, t.collapsed_band_share * capacity, t.degraded_band_share * capacity)
    lost = best.effective_bits - m.effective_bits if best is not None else 0.0
    lost_status = COLLAPSED if lost >= t.collapsed_bits_lost else DEGRADED if lost >= t.degraded_bits_lost else OK
    if max(status, share_status, lost_status, key=_RANK.get) != OK and not too_narrow:
        worst = max(status, share_status, lost_status, key=_RANK.get)
        relative = (f"; the band gets {m.band_share:.{'0' if m.band_share >= 0.01 else '2'}%} of the {kind} range"
                    if m.band_share == m.band_share else "")
        if best is not None and lost > 0:
            relative += (f", {lost:.1f} bits fewer than {best.spec} ({best.codes_used} codes) on the same "
                         "calibration data")
        findings.append((worst, (
            f"{band} uses {m.codes_used} of {m.levels} codes ({m.effective_bits:.1f} bits) on "
            f"{m.worst_axis}: calibration range {m.range_g:.3g} g vs band {m.band.width_g:.3g} g "
            f"({m.range_ratio:.1f}x, {m.g_per_code:.3g} g per code){relative}; the outliers set the {kind} "
            f"range{hint}")))

    saturation = level(m.saturation_rate, t.collapsed_saturation, t.degraded_saturation, below=False)
    if too_narrow and status != OK:
        saturation = max(saturation, status, key=_RANK.get)
    if saturation != OK:
        findings.append((saturation, (
            f"{m.saturation_rate:.1%} of {band} samples saturate on {m.saturation_axis}: the unclipped "
            f"range {m.range_g:.3g} g "
            + (f"is narrower than the band ({m.band.width_g:.3g} g)" if too_narrow
               else "clips the band's largest values")
            + f", leaving {m.codes_used} codes - widen the clip "
            "(robust clip_lo/clip_hi) or the calibration set")))

    if m.sqnr_db is not None:
        status = level(m.sqnr_db, t.collapsed_sqnr_db, t.degraded_sqnr_db)
        if status != OK:
            limit = t.collapsed_sqnr_db if status == COLLAPSED else t.degraded_sqnr_db
            findings.append((status, f"{band} SQNR is {m.sqnr_db:.1f} dB ({status} below {limit:g} dB)"))

    if not findings:
        sqnr = "n/a (constant band)" if m.sqnr_db is None else f"{m.sqnr_db:.1f} dB"
        return Verdict(OK, (f"{band} uses {m.codes_used} of {m.levels} codes "
                            f"({m.effective_bits:.1f} bits) on {m.worst_axis}, SQNR {sqnr}, "
                            f"{m.saturation_rate:.2%} saturated",))
    worst = max(findings, key=lambda f: _RANK[f[0]])[0]
    ordered = sorted(findings, key=lambda f: -_RANK[f[0]])
    return Verdict(worst, tuple(reason for _, reason in ordered))
