"""The 16x8 remedy beside the other scalers: the model's own scaler with int16 input codes (TFLite's
16x8 mode: int16 activations, int8 weights), and what it costs on the device.

The recommendation's codes are the host's (harness.quant.metrics at ``input_dtype="int16"``, on the
same calibration set and band samples as every other candidate). Its cost is measured, never
estimated: when the run holds a 16x8 bundle of the same fitted scaler (a *sibling*: minmax_16x8
beside minmax), the device ran both, and the recommendation carries

* instructions per inference: the median INFER cost of every window, this model and its sibling
  (instructions under QEMU ``-icount shift=0``, DWT cycles on silicon: the run's cost unit);
* arena: the bytes the engine planned for each (MODEL_INFO ``arena_used``);
* flash: the image's flash (arm-none-eabi-size) with the int16 kernels, and that of the same
  firmware built without them (``ENGINE_INT16=0``, the portable engine's switch: int16 tensors
  are then refused), built once per run when a 16x8 sibling ran; and the bytes the linker placed
  from the int16 kernel objects themselves (``*16x8*.c.o``, ``*int16*.c.o`` in ``firmware.map``),
  which is less than the difference (op-table rows, loader and type paths go with the switch).

Without a sibling in the run the recommendation says how to get one measured (``hil train --only
<name>_16x8`` for the harness's own variants; a team converts its float model at 16x8 and bundles
it), then run both.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import numpy as np

INT16_KERNEL_OBJECTS = ("*16x8*.c.o", "*int16*.c.o")   # the portable engine's int16 kernels
RAM_ONLY_SECTIONS = (".bss", ".noinit", ".stack", ".heap")
_SECTION_LINE = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S+\.o)\s*$")
_CONTINUED_LINE = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S+\.o)\s*$")
_OUTPUT_SECTION = re.compile(r"^(\.\S+)")


def flash_of_objects(map_path: str | Path, patterns=INT16_KERNEL_OBJECTS) -> int | None:
    """Bytes of flash the linker placed from objects whose file name matches ``patterns``
    (input sections of allocated, non-RAM-only output sections in a GNU ld map). None when the
    map names no such object: an image without those kernels."""
    try:
        lines = Path(map_path).read_text(errors="replace").splitlines()
    except OSError:
        return None
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Linker script and memory map"))
    except StopIteration:
        return None
    total, seen, output, pending = 0, False, "", False
    for line in lines[start + 1:]:
        head = _OUTPUT_SECTION.match(line)
        if head:
            output, pending = head.group(1), False
            continue
        match = _SECTION_LINE.match(line)
        if match:
            size, path = match.group(3), match.group(4)
        elif pending and _CONTINUED_LINE.match(line):
            # a long input section name stands alone on its line; address, size, file follow
            _address, size, path = _CONTINUED_LINE.match(line).groups()
        else:
            pending = line.startswith(" .") and len(line.split()) == 1
            continue
        pending = False
        if not any(fnmatch.fnmatch(Path(path).name, pattern) for pattern in patterns):
            continue
        seen = True
        if not output.startswith(RAM_ONLY_SECTIONS + (".debug", ".comment", ".ARM.attributes")):
            total += int(size, 16)
    return total if seen else None


def flash_without_int16_kernels(image) -> int | None:
    """Flash of ``image``'s firmware built again with ``ENGINE_INT16=0`` (no 16x8 kernels), beside
    it in ``<build_dir>-no-int16``; None for an image that is not the portable engine's build."""
    if image is None or getattr(image, "engine", None) != "portable" or getattr(image, "build_dir", None) is None:
        return None
    from harness.firmware.build import build_firmware
    build_dir = Path(image.build_dir)
    without = build_firmware(board=image.board, engine="portable", build_dir=build_dir.parent / f"{build_dir.name}-no-int16",
                             extra_make_vars={"ENGINE_INT16": "0"})
    return int(without.flash_bytes)


def device_cost(run, image=None) -> dict:
    """Measured cost of one model's run: median instructions per inference, arena bytes, image flash."""
    costs = np.concatenate([s.cost for s in run.scenarios]) if run.scenarios else np.zeros(0)
    unit = run.scenarios[0].cost_unit if run.scenarios else ""
    info = getattr(run, "device_model", None)
    cost = {"instructions_median": float(np.median(costs)) if costs.size else None, "cost_unit": unit,
            "arena_bytes": int(info.arena_used) if info is not None else None,
            "flash_bytes": None, "flash_without_int16_kernels": None, "int16_kernel_bytes": None}
    if image is not None and getattr(image, "build_dir", None) is not None:
        kernels = flash_of_objects(Path(image.build_dir) / "firmware.map")
        cost["flash_bytes"] = int(image.flash_bytes)
        if kernels is not None:
            cost["int16_kernel_bytes"] = kernels
    return cost


def sibling_16x8(result, results):
    """The run's 16x8 bundle of the same fitted scaler as ``result``'s INT8 model, if any."""
    model = result.run.model
    if model.input_dtype != "int8":
        return None
    for other in results:
        candidate = other.run.model
        if candidate.input_dtype == "int16" and candidate.metadata.scaler == model.metadata.scaler:
            return other
    return None


def _percent(new, old) -> str:
    return f"{(new - old) / old:+.0%}" if new is not None and old else "n/a"


def cost_sentence(own: dict, remedy: dict, sibling_name: str) -> str:
    unit = own.get("cost_unit") or "cost"
    parts = [f"measured on this device as {sibling_name}"]
    if own["instructions_median"] is not None and remedy["instructions_median"] is not None:
        parts.append(f"{_percent(remedy['instructions_median'], own['instructions_median'])} {unit} per inference "
                     f"({own['instructions_median']:.0f} -> {remedy['instructions_median']:.0f})")
    if own["arena_bytes"] is not None and remedy["arena_bytes"] is not None:
        parts.append(f"{remedy['arena_bytes'] - own['arena_bytes']:+d} B of arena "
                     f"({own['arena_bytes']} -> {remedy['arena_bytes']})")
    if remedy["flash_bytes"] is not None and remedy["flash_without_int16_kernels"] is not None:
        parts.append(f"+{remedy['flash_bytes'] - remedy['flash_without_int16_kernels']} B of flash for the int16 "
                     f"kernels (image {remedy['flash_bytes']} B, {remedy['flash_without_int16_kernels']} B built "
                     "without them, ENGINE_INT16=0"
                     + (f"; {remedy['int16_kernel_bytes']} B of it the kernel objects" if remedy["int16_kernel_bytes"] else "")
                     + ")")
    return ", ".join(parts)


def attach_remedy_costs(results, image=None, build_without=False) -> None:
    """Every report gets its measured device cost; an INT8 model's "at 16x8" recommendation gets
    its sibling's cost beside its own, and its reasons say it. ``build_without``: build the image
    without the int16 kernels (once) when a 16x8 model ran, for the flash they add."""
    results = list(results)
    without = None
    if build_without and any(r.run.model.input_dtype == "int16" for r in results):
        without = flash_without_int16_kernels(image)
    for result in results:
        cost = device_cost(result.run, image)
        if image is None and result.report.device_cost.get("flash_bytes") is not None:
            cost.update({k: result.report.device_cost[k] for k in
                         ("flash_bytes", "flash_without_int16_kernels", "int16_kernel_bytes")})
        if without is not None:
            cost["flash_without_int16_kernels"] = without
        result.report.device_cost = cost
    for result in results:
        remedies = [r for r in result.report.recommendations if r.input_dtype == "int16"]
        if not remedies:
            continue
        sibling = sibling_16x8(result, results)
        for remedy in remedies:
            if sibling is None:
                remedy.cost = None
                note = (f"{remedy.spec}: its device cost is measured when a 16x8 bundle of this scaler runs "
                        f"beside it ({_how_to_get_16x8(result.run.model.name)}, then both in one run)")
            else:
                remedy.cost = {"model": sibling.run.model.name, "own": result.report.device_cost,
                               "at_16x8": sibling.report.device_cost}
                note = (f"{remedy.spec} ({remedy.codes_used} codes, {remedy.effective_bits:.1f} bits, {remedy.status}): "
                        + cost_sentence(result.report.device_cost, sibling.report.device_cost, sibling.run.model.name))
            reasons = result.report.reasons
            if remedy.note in reasons:
                reasons.remove(remedy.note)    # idempotent: a later sibling's cost replaces the first note
            reasons.append(note)
            remedy.note = note


def _how_to_get_16x8(name: str) -> str:
    from harness.models.variants import VARIANTS
    if f"{name}_16x8" in VARIANTS:
        return f"hil train --only {name}_16x8"
    return ("convert the float model with TFLite's 16x8 op set, EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_"
            "WEIGHTS_INT8 with int16 input and output, and hil bundle it with the same scaler")
