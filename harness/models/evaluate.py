"""Accuracy of a reference on labelled windows: overall, per class, confusion matrix.

No TensorFlow: runs the references (TFLite Micro). Used by ``hil train`` to fill the metadata and
by ``hil models --table`` to recompute the figures from the committed fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.models.references import Reference


def accuracy_report(predicted: np.ndarray, labels: np.ndarray, classes: list[str]) -> dict:
    """``{"overall", "per_class": {class: recall}, "confusion": [[count]]}``.

    Per-class figures are recalls (the fraction of windows of that class predicted as it), so the
    min-max collapse shows as a drop in "normal" or "pre_failure" even when the overall barely
    moves. ``confusion[true][predicted]``.
    """
    predicted = np.asarray(predicted)
    labels = np.asarray(labels)
    count = len(classes)
    confusion = np.zeros((count, count), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {}
    for index, name in enumerate(classes):
        total = confusion[index].sum()
        per_class[name] = round(float(confusion[index, index] / total), 6) if total else None
    return {"overall": round(float((predicted == labels).mean()), 6), "per_class": per_class,
            "confusion": confusion.tolist()}


def evaluate_reference(reference: Reference, scaler, windows_g: np.ndarray, labels: np.ndarray,
                       classes: list[str]) -> dict:
    """Scale raw windows (g) with the model's scaler, run the reference, score it."""
    scaled = scaler.transform(windows_g).astype(np.float32)
    return accuracy_report(reference.predict(scaled).argmax, labels, classes)


# --- the table of hil models ------------------------------------------------------------------

@dataclass(frozen=True)
class ModelReport:
    """Float vs host-INT8 figures of one committed model on its held-out set."""

    name: str
    scaler: str
    method: str
    input_scale: float
    input_zero_point: int
    normal_codes: int            # distinct input codes (int8, int16 for 16x8) on channel 0 over the normal windows
    accuracy: dict               # {"float": accuracy_report, "int8": accuracy_report}
    recorded: dict               # the accuracy recorded in <name>.json at training time
    activations: str = "int8"    # "int16": a 16x8 model (its x codes are int16 codes)

    @property
    def matches_metadata(self) -> bool:
        return all(self.accuracy[k]["confusion"] == self.recorded[k]["confusion"]
                   for k in ("float", "int8"))


def held_out_for(metadata):
    """The held-out set a model's metadata names (seed and sizes), rebuilt without TensorFlow."""
    from harness.models.dataset import DatasetConfig, make_held_out
    config = DatasetConfig(**metadata.training["dataset"])
    return make_held_out(config)


def report_model(bundle, held_out=None) -> ModelReport:
    """Float vs host INT8 accuracy of a loaded bundle (harness.bundle.load) on its held-out set."""
    from harness.models.references import FloatReference, HostInt8Reference

    meta = bundle.metadata
    held_out = held_out if held_out is not None else held_out_for(meta)
    scaled = bundle.scaler.transform(held_out.windows_g).astype(np.float32)
    int8_ref = HostInt8Reference(bundle.int8_path)
    int8_pred = int8_ref.predict(scaled)
    float_pred = FloatReference(bundle.float_path).predict(scaled)
    normal = held_out.labels == meta.classes.index("normal")
    codes = int8_pred.input_codes[normal][..., 0]
    return ModelReport(
        name=meta.name, scaler=meta.training["scaler"], method=meta.training["method"],
        input_scale=float(meta.input["scale"]), input_zero_point=int(meta.input["zero_point"]),
        normal_codes=int(len(np.unique(codes))),
        accuracy={"float": accuracy_report(float_pred.argmax, held_out.labels, meta.classes),
                  "int8": accuracy_report(int8_pred.argmax, held_out.labels, meta.classes)},
        recorded=meta.accuracy, activations=str(meta.input.get("dtype", "int8")))


def format_table(reports: list[ModelReport], classes: list[str]) -> str:
    """Markdown table: per model, float and host-INT8 recall per class and overall."""
    short = {"normal": "normal", "pre_failure": "pre-fail", "impact": "impact"}
    head = ["model", "scaler", "quant", "x codes"]
    for kind in ("float", "INT8"):
        head += [f"{kind} {short.get(c, c)}" for c in classes] + [f"{kind} all"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in reports:
        row = [r.name, r.scaler, r.method.upper() + (" 16x8" if r.activations == "int16" else ""), str(r.normal_codes)]
        for kind in ("float", "int8"):
            acc = r.accuracy[kind]
            row += [f"{acc['per_class'][c]:.3f}" for c in classes] + [f"{acc['overall']:.3f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
