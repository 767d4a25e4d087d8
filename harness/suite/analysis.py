"""From a ModelRun to figures and a verdict: output agreement, collapse on the device's codes,
the model verdict with its reasons, and computed recommendations.

Model verdict (docs/suite.md):
  input  = harness.quant.verdict.judge on the device's input codes of the band (the bundle's,
           0.2-1.5 g by default: samples of every window of the watched classes), absolute and
           relative to the best registered scaler fitted on the same calibration data;
  output = the largest recall drop, float minus device, of the bundle's watched classes:
           COLLAPSED from ``collapsed_recall_drop`` (0.25), DEGRADED from ``degraded_recall_drop`` (0.10);
  model  = worst(output, min(input, DEGRADED)): input-code collapse alone makes a model DEGRADED
           (a latent risk: the resolution is gone but the outputs still hold); COLLAPSED needs the
           outputs to show the loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harness.models.evaluate import accuracy_report
from harness.quant.metrics import ScalerMetrics, analyze_scalers, input_saturation_mask
from harness.quant.tflite import dequantize
from harness.quant.verdict import COLLAPSED, DEGRADED, OK, Best, Verdict, judge
from harness.suite.collapse import codes_band_metrics
from harness.suite.preprocessing import PREPROCESSING_MISMATCH, PreprocessingCheck, check_preprocessing
from harness.suite.run import ModelRun

RANK = {OK: 0, DEGRADED: 1, COLLAPSED: 2}
DEVICE_FAULT = "DEVICE FAULT"   # the device, not the model: harness.device.recovery
SWEEPS = ("shock_sweep", "outlier_sweep")


NO_FLOAT = ("no float reference in the bundle (files.float): float recall, the recall drop, top-1 agreement "
            "and the errors against float are missing, so the verdict rests on the input codes alone")


def output_figures(float_scores, device_scores, device_codes, host_codes, labels, classes) -> dict:
    """Top-1 agreement, recalls and confusions (float, device), errors of the device's dequantized
    outputs against float, and bit-exactness against the host INT8 reference. Without a float
    reference (``float_scores`` all NaN) every float figure is None."""
    if np.isnan(float_scores).all():
        figures = output_figures(np.zeros_like(device_scores, dtype=np.float32), device_scores, device_codes,
                                 host_codes, labels, classes)
        for key in ("top1_agreement", "accuracy_float", "confusion_float", "mae", "rmse", "l2r", "cosine"):
            figures[key] = None
        figures["recall_float"] = {c: None for c in figures["recall_float"]}
        return figures
    float_argmax = float_scores.argmax(axis=1)
    device_argmax = device_codes.argmax(axis=1)
    difference = device_scores.astype(np.float64) - float_scores.astype(np.float64)
    norm = float(np.linalg.norm(float_scores))
    dot = float(np.sum(device_scores * float_scores))
    denominator = float(np.linalg.norm(device_scores)) * norm
    lsb = np.abs(device_codes.astype(np.int32) - host_codes.astype(np.int32))   # int16 codes (16x8) too
    float_report = accuracy_report(float_argmax, labels, classes)
    device_report = accuracy_report(device_argmax, labels, classes)
    return {
        "windows": int(len(labels)),
        "top1_agreement": float((float_argmax == device_argmax).mean()),
        "recall_float": float_report["per_class"], "recall_device": device_report["per_class"],
        "accuracy_float": float_report["overall"], "accuracy_device": device_report["overall"],
        "confusion_float": float_report["confusion"], "confusion_device": device_report["confusion"],
        "mae": float(np.abs(difference).mean()), "rmse": float(np.sqrt((difference ** 2).mean())),
        "l2r": float(np.linalg.norm(difference) / norm) if norm else math.nan,
        "cosine": dot / denominator if denominator else math.nan,
        "within_1lsb_share": float((lsb <= 1).mean()), "exact_share": float((lsb == 0).mean()),
        "max_lsb": int(lsb.max()) if lsb.size else 0,
    }


def recall_drop(outputs: dict, watched) -> tuple[float, str]:
    """Largest float-minus-device recall over the watched classes, and which class."""
    drops = {c: outputs["recall_float"][c] - outputs["recall_device"][c] for c in watched
             if outputs["recall_float"].get(c) is not None and outputs["recall_device"].get(c) is not None}
    if not drops:
        return 0.0, ""
    worst = max(drops, key=drops.get)
    return float(drops[worst]), worst


def combine(input_status: str, output_status: str) -> str:
    """Model verdict: worst(output, min(input, DEGRADED)). Input-code collapse alone is a latent
    risk (DEGRADED); COLLAPSED needs the device's outputs to show the loss."""
    capped = DEGRADED if input_status == COLLAPSED else input_status
    return max(output_status, capped, key=RANK.get)


def _level(value: float, collapsed: float, degraded: float) -> str:
    return COLLAPSED if value >= collapsed else DEGRADED if value >= degraded else OK


# Wider robust clips: a team whose normal peaks lie beyond +-4 IQR (an activity's running
# steps against its idle spread) needs one; each is judged like the others, so only a clip that
# keeps the band OK on the team's own calibration data is ever recommended.
WIDER_CLIPS_IQR = (8.0, 16.0)


def candidate_specs() -> list[str]:
    """Every registered scaler, with the parameters of the committed variants where they set
    some, and the robust scaler at wider clips."""
    from harness.models.variants import VARIANTS
    from harness.quant.scalers import scaler_names
    specs = {}
    for variant in VARIANTS.values():
        args = ",".join(f"{k}={v:g}" for k, v in variant.scaler_params.items())
        specs.setdefault(variant.scaler, variant.scaler + (f":{args}" if args else ""))
    for name in scaler_names():
        specs.setdefault(name, name)
    for clip in WIDER_CLIPS_IQR:
        specs.setdefault(f"robust:{clip:g}", f"robust:clip_lo={-clip:g},clip_hi={clip:g}")
    return list(specs.values())


@dataclass
class Recommendation:
    spec: str
    effective_bits: float
    codes_used: int
    status: str
    reason: str
    input_dtype: str = "int8"       # "int16": the model's own scaler at 16x8 (harness.suite.remedy16)
    cost: dict | None = None        # its measured device cost beside the model's (remedy16.attach_remedy_costs)
    note: str = ""                  # the reason remedy16 wrote for it (replaced when a sibling's cost arrives)


def recommend(model, band_g: np.ndarray, band, thresholds) -> list[Recommendation]:
    """Every candidate scaler fitted on the model's own calibration set (with its outliers) and
    judged on the same band samples: harness.quant.metrics.analyze_scalers, best first. Each is
    judged against the best of them, as the model's own scaler is. The candidates have the
    model's input type; an INT8 model also gets its own scaler at 16x8 ("<scaler> at 16x8",
    int16 input codes), judged by the same rules but not counted as the best (another input type)."""
    dtype = model.input_dtype
    results = analyze_scalers(candidate_specs(), band_g, calibration_g=model.calibration_g, band=band,
                              input_dtype=dtype)
    top = max(results, key=lambda r: r[3].effective_bits)
    best = Best(top[0], top[3].effective_bits, top[3].codes_used)
    out = []
    for spec, _scaler, _params, metrics in results:
        verdict = judge(metrics, thresholds, best=best)
        out.append(Recommendation(spec, metrics.effective_bits, metrics.codes_used, verdict.status, verdict.reason,
                                  input_dtype=dtype))
    if dtype == "int8":
        (spec, _scaler, _params, metrics), = analyze_scalers([model.scaler_label], band_g,
                                                             calibration_g=model.calibration_g, band=band,
                                                             input_dtype="int16")
        verdict = judge(metrics, thresholds)
        out.append(Recommendation(f"{spec} at 16x8", metrics.effective_bits, metrics.codes_used, verdict.status,
                                  verdict.reason, input_dtype="int16"))
    return sorted(out, key=lambda r: (RANK[r.status], -r.effective_bits))


@dataclass
class ModelReport:
    name: str
    scaler: str
    method: str
    outputs: dict
    per_scenario: dict
    band: ScalerMetrics                      # normal + pre-failure windows: the verdict's input evidence
    by_regime: dict                          # regime -> ScalerMetrics (None if no band sample)
    by_amplitude: list                       # rows of the shock sweep
    input_verdict: Verdict
    output_status: str
    drop: float
    drop_class: str
    status: str
    reasons: list
    recommendations: list = field(default_factory=list)
    fault_events: list = field(default_factory=list)   # {scenario, window, kind, error, recovered, ...}
    aborted: str = ""
    classes: list = field(default_factory=list)
    watched_classes: list = field(default_factory=list)
    best: Best | None = None                 # the best registered scaler on the same calibration data
    thresholds: object = None                # the SuiteThresholds the verdicts used
    preprocessing: PreprocessingCheck | None = None   # the device's own preprocessing vs the bundle's
    layers: object = None                    # harness.layers.LayerReport: where in the network (non-OK models)
    device_cost: dict = field(default_factory=dict)   # harness.suite.remedy16.device_cost: instructions, arena, flash

    @property
    def verdict(self) -> str:
        """The table's verdict: PREPROCESSING MISMATCH when the device did not feed its model what
        the bundle declares (its figures are then about another pipeline), else the model's."""
        if self.preprocessing is not None and self.preprocessing.mismatch:
            return PREPROCESSING_MISMATCH
        return self.status

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    @property
    def device_faults(self) -> list[dict]:
        """Windows the device failed twice (reset and retried once): recorded as DEVICE FAULT."""
        return [e for e in self.fault_events if not e["recovered"]]

    @property
    def device_status(self) -> str:
        """DEVICE FAULT when a window faulted twice; OK otherwise (windows that answered after one
        reset are reported, not failed). Separate from the model verdict."""
        return DEVICE_FAULT if self.device_faults else OK

    def device_reasons(self) -> list[str]:
        out = []
        for e in self.fault_events:
            where = f"{e['scenario']} window {e['window']}"
            if e["recovered"]:
                out.append(f"{where}: {e['kind']}, answered after a reset ({e['reset_s']:.2f} s): {e['error']}")
            else:
                out.append(f"{where}: DEVICE FAULT ({e['kind']}, again after a reset and a retry): "
                           f"{e['retry_error'] or e['error']}")
        if self.aborted:
            out.append(f"run aborted: {self.aborted}")
        return out

    def summary(self) -> dict:
        o = self.outputs
        return {
            "model": self.name, "scaler": self.scaler, "method": self.method, "verdict": self.verdict,
            "model_verdict": self.status,
            "preprocessing": self.preprocessing.to_dict() if self.preprocessing else None,
            "layers": self.layers.to_dict() if self.layers is not None else None,
            "input_verdict": self.input_verdict.status, "output_verdict": self.output_status,
            "classes": list(self.classes), "watched_classes": list(self.watched_classes),
            "normal_codes": self.by_regime["normal"].codes_used if self.by_regime.get("normal") else None,
            "normal_bits": round(self.by_regime["normal"].effective_bits, 2) if self.by_regime.get("normal") else None,
            "band_codes": self.band.codes_used, "band_bits": round(self.band.effective_bits, 2),
            "band_levels": self.band.levels, "input_dtype": self.band.input_dtype,
            "device_cost": dict(self.device_cost),
            "band_g": [self.band.band.lo_g, self.band.band.hi_g], "band_share": round(self.band.band_share, 4),
            "best_scaler": self.best.__dict__ if self.best else None,
            "bits_lost": round(self.best.effective_bits - self.band.effective_bits, 2) if self.best else None,
            "band_axis": self.band.worst_axis, "g_per_code": self.band.g_per_code,
            "sqnr_db": self.band.sqnr_db, "saturation_rate": self.band.saturation_rate,
            "recall_float": o["recall_float"], "recall_device": o["recall_device"],
            "recall_drop": self.drop, "recall_drop_class": self.drop_class,
            "top1_agreement": o["top1_agreement"], "exact_share": o["exact_share"],
            "within_1lsb_share": o["within_1lsb_share"], "mae": o["mae"], "rmse": o["rmse"],
            "l2r": o["l2r"], "cosine": o["cosine"], "windows": o["windows"],
            "reasons": list(self.reasons),
            "device_status": self.device_status, "device_faults": len(self.device_faults),
            "device_recoveries": len(self.fault_events) - len(self.device_faults),
            "device_reasons": self.device_reasons(), "fault_events": list(self.fault_events),
            "aborted": self.aborted,
            "recommendations": [r.__dict__ for r in self.recommendations],
            "by_regime": {k: (v.to_dict() if v is not None else None) for k, v in self.by_regime.items()},
            "by_amplitude": self.by_amplitude,
            "per_scenario": self.per_scenario,
        }


def _scores(run: ModelRun, codes: np.ndarray) -> np.ndarray:
    return dequantize(codes, run.model.output_params).astype(np.float32)


def _band_of(run: ModelRun, mask: np.ndarray, label: str, band):
    model = run.model
    g = run.g[mask].reshape(-1, model.scaler.input_channels)
    codes = run.pooled("device_input_codes")[mask].reshape(len(g), -1)
    try:
        return codes_band_metrics(model.scaler, model.input_params, g, codes, band, label)
    except Exception as e:  # noqa: BLE001 - a regime without band samples has no figures
        from harness.errors import TraceError
        if isinstance(e, TraceError):
            return None
        raise


def _amplitude_rows(run: ModelRun) -> list[dict]:
    """Per outlier amplitude of the sweep: saturation, recall of each window's own label (the
    fixtures' shock sweep is labelled impact), float/device agreement and output error."""
    sweep = [s for s in run.scenarios if s.name in SWEEPS]
    if not sweep:
        return []
    s = sweep[0]
    model = run.model
    has_float = not np.isnan(s.float_scores).all()
    float_argmax = s.float_scores.argmax(axis=1)
    device_argmax = s.device_outputs.argmax(axis=1)
    device_scores = _scores(run, s.device_outputs)
    labels = s.scenario.labels
    g = s.scenario.g
    rows = []
    for peak in np.unique(s.scenario.shock_peak_g):
        mask = s.scenario.shock_peak_g == peak
        flat = g[mask].reshape(-1, g.shape[-1])
        saturated = input_saturation_mask(model.scaler, model.input_params, flat)
        sensor_clipped = np.abs(s.scenario.counts[mask]) >= 32767
        rows.append({"peak_g": float(peak), "windows": int(mask.sum()),
                     "saturation_rate": float(saturated.any(axis=1).mean()),
                     "sensor_clip_rate": float(sensor_clipped.any(axis=-1).mean()),
                     "recall_float": float((float_argmax[mask] == labels[mask]).mean()) if has_float else None,
                     "recall_device": float((device_argmax[mask] == labels[mask]).mean()),
                     "agreement": float((float_argmax[mask] == device_argmax[mask]).mean()) if has_float else None,
                     "mae": float(np.abs(device_scores[mask] - s.float_scores[mask]).mean()) if has_float else None})
    return rows


def resolved_band(run: ModelRun):
    """The suite option's band when given, else the bundle's."""
    return run.config.band if run.config.band is not None else run.model.band


def analyze(run: ModelRun) -> ModelReport:
    """Figures and verdicts on the windows the device answered (DEVICE FAULT windows are listed in
    ``fault_events``, never scored). Recall and the verdict use the scored scenarios (an injected
    outlier makes a window's label no ground truth); every scenario has its own figures."""
    fault_events = [{"scenario": name, **event.to_dict()} for name, event in run.fault_events]
    aborted = run.aborted
    everything = run.measured()
    model, config = everything.model, everything.config
    run = everything.scored()
    classes = model.classes
    watched_classes = model.watched_classes
    labels = run.labels
    band_spec = resolved_band(run)
    t = config.thresholds.resolve(model.spec.thresholds)
    device_codes = run.pooled("device_outputs")
    outputs = output_figures(run.pooled("float_scores"), _scores(run, device_codes), device_codes,
                             run.pooled("host_outputs"), labels, classes)
    per_scenario = {}
    for s in everything.scenarios:
        figures = output_figures(s.float_scores, _scores(run, s.device_outputs), s.device_outputs,
                                 s.host_outputs, s.scenario.labels, classes)
        figures.update(windows_per_s=s.windows_per_s, cost_median=float(np.median(s.cost)) if len(s.cost) else None,
                       cost_unit=s.cost_unit, scored=s.scenario.scored)
        per_scenario[s.name] = figures
    by_regime = {cls: _band_of(run, labels == index, f"{model.name}:{cls}", band_spec)
                 for index, cls in enumerate(classes)}
    watched = np.isin(labels, [classes.index(c) for c in watched_classes])
    band = _band_of(run, watched, model.name, band_spec)
    if band is None:
        from harness.errors import TraceError
        raise TraceError(f"{model.name}: no sample of the watched classes' windows ({', '.join(watched_classes)}) "
                         f"lies in the band {band_spec}; set the bundle's band_g to where their signal is")
    band_g = run.g[watched].reshape(-1, model.scaler.input_channels)
    candidates = recommend(model, band_g, band_spec, t.input)
    top = max((r for r in candidates if r.input_dtype == model.input_dtype), key=lambda r: r.effective_bits)
    best = Best(top.spec, top.effective_bits, top.codes_used)
    keeping = [r for r in candidates if r.status == OK]
    input_verdict = judge(band, t.input, best=best, remedies=[r.spec for r in keeping])
    drop, drop_class = recall_drop(outputs, watched_classes)
    output_status = _level(drop, t.collapsed_recall_drop, t.degraded_recall_drop)
    status = combine(input_verdict.status, output_status)

    reasons = list(input_verdict.reasons)
    if drop_class:
        recall = (f"device recall of {drop_class} {outputs['recall_device'][drop_class]:.2f} vs float "
                  f"{outputs['recall_float'][drop_class]:.2f} (drop {drop:.2f}")
        if output_status == OK:
            reasons.append(recall + f", under {t.degraded_recall_drop:g}): the outputs hold")
        else:
            explained = ("the input codes explain it" if input_verdict.status != OK
                         else "the input codes do not explain it: look at the model, not the scaler")
            reasons.append(recall + f", {output_status} from {t.collapsed_recall_drop if output_status == COLLAPSED else t.degraded_recall_drop:g}); {explained}")
    if input_verdict.status == COLLAPSED and output_status == OK:
        reasons.append("input resolution is gone but the outputs still hold (latent: DEGRADED, not COLLAPSED)")
    recommendations = []
    if input_verdict.status != OK:
        recommendations = candidates
        peak = float(np.abs(model.calibration_g).max())
        if keeping:
            listed = ", ".join(f"{r.spec} ({r.codes_used} codes, {r.effective_bits:.1f} bits)" for r in keeping)
            reasons.append(f"on this model's calibration set (peak {peak:.3g} g) these scalers keep the band OK: {listed}")
        else:
            reasons.append(f"no registered scaler keeps the band OK on this calibration set (peak {peak:.3g} g)")
    if model.float_reference is None:
        reasons.append(NO_FLOAT)
    preprocessing = check_preprocessing(everything.scenarios)
    if preprocessing.mismatch:
        reasons.insert(0, preprocessing.reason())
    return ModelReport(model.name, model.scaler_label, model.method, outputs, per_scenario, band, by_regime,
                       _amplitude_rows(everything), input_verdict, output_status, drop, drop_class, status, reasons,
                       recommendations, fault_events, aborted, classes=list(classes),
                       watched_classes=list(watched_classes), best=best, thresholds=t, preprocessing=preprocessing)
