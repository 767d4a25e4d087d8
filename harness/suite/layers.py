"""Where in the network a non-OK model loses: the per-layer dump (harness.layers) on a few of the
windows the device got wrong, put into the model's reasons.

Run on the device right after the model's scenarios, while it is still deployed: INFER_LAYERS
returns every op's output; each is checked against tflite_micro's bit for bit and compared with
the float model's tensor, mapped by the graph. Needs the INFER_LAYERS and SET_PREPROCESS
capabilities (the harness's own firmware; the input codes are the fold's) and the float model;
otherwise the reasons say why it was not done.
"""

from __future__ import annotations

import numpy as np

from harness.link.protocol import Capability
from harness.quant.verdict import OK

WINDOWS = 4     # misclassified windows dumped per model: enough to see where, cheap on the link


def windows_to_dump(run, limit: int = WINDOWS) -> np.ndarray:
    """Raw counts of up to ``limit`` scored windows the device got wrong (else of the watched
    classes' first windows): (n, window_len, axes) int16."""
    scored = run.measured().scored()
    picked = []
    for s in scored.scenarios:
        wrong = np.flatnonzero(s.device_outputs.argmax(axis=1) != s.scenario.labels)
        picked += [s.scenario.counts[i] for i in wrong[:limit - len(picked)]]
        if len(picked) >= limit:
            break
    if not picked:
        watched = [run.model.classes.index(c) for c in run.model.watched_classes]
        for s in scored.scenarios:
            rows = np.flatnonzero(np.isin(s.scenario.labels, watched))
            picked += [s.scenario.counts[i] for i in rows[:limit - len(picked)]]
            if len(picked) >= limit:
                break
    return np.stack(picked) if picked else np.zeros((0,))


def locate_loss(device, run, report):
    """(LayerReport or None, reason or None) for a model whose verdict is not OK."""
    if report.status == OK and report.input_verdict.status == OK:
        return None, None
    model = run.model
    info = device.client.boot_info or device.client.info()
    if not info.serves(Capability.INFER_LAYERS):
        return None, "where in the network: not measured, the firmware does not serve INFER_LAYERS"
    if not info.serves(Capability.SET_PREPROCESS):
        return None, "where in the network: not measured, the firmware runs its own preprocessing"
    if model.float_reference is None:
        return None, "where in the network: not measured, the bundle has no float model"
    counts = windows_to_dump(run)
    if not len(counts):
        return None, None
    from harness.layers import judge_layers
    layers = judge_layers(device.client, model, counts / model.counts_per_g, counts=counts)
    return layers, f"where in the network ({len(counts)} misclassified windows, device vs float): {layers.reason()}"
