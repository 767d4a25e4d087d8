"""What decides whether a retrain gives the committed fixtures' bytes: the training fingerprint.

Training is seeded, runs on one thread with TensorFlow's op determinism on, and gives the same
bytes run after run on one machine. It does not give the same bytes on another CPU: oneDNN (on by
default in x86 TensorFlow) picks its kernels, blocking and accumulation order from the CPU's
instruction set and cache sizes, and NumPy's SIMD dispatch (sin, exp, log on AVX-512 machines)
changes the last bits of the generated windows. Seen on this project's machines: the same
TensorFlow and seeds gave other weights, and another INT8 normal recall for the min-max model
(0.09 on two machines, 0.45 on a third), on machines differing only in CPU model.

So the fingerprint records the library versions and the CPU facts those libraries dispatch on.
Byte identity with a committed model is asserted only when its recorded fingerprint equals the
machine's; elsewhere what must reproduce is the finding (tests/models/retrain_findings.py).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform

FINGERPRINT_FORMAT = 1
# CPU flags oneDNN and NumPy dispatch on (/proc/cpuinfo names); the rest do not pick a kernel.
DISPATCH_FLAGS = ("sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
                  "avx512dq", "avx512cd", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni",
                  "amx_tile", "amx_int8", "amx_bf16", "neon", "asimd", "sve")
LIBRARIES = ("tensorflow", "tf-keras", "tensorflow-model-optimization", "numpy")


def _cpuinfo(text: str) -> tuple[str, str, set[str]]:
    """(vendor, model name, flags) of the first processor in /proc/cpuinfo's text."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    return (fields.get("vendor_id", fields.get("CPU implementer", "")),
            fields.get("model name", fields.get("CPU part", "")), flags)


def training_fingerprint(cpuinfo_text: str | None = None, environ=None) -> dict:
    """The facts a retrain's bytes depend on, as recorded in a model's ``training.fingerprint``."""
    if cpuinfo_text is None:
        try:
            with open("/proc/cpuinfo") as cpuinfo:
                cpuinfo_text = cpuinfo.read()
        except OSError:
            cpuinfo_text = ""
    environ = os.environ if environ is None else environ
    vendor, model, flags = _cpuinfo(cpuinfo_text)
    versions = {}
    for dist in LIBRARIES:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {"format": FINGERPRINT_FORMAT, "libraries": versions, "machine": platform.machine(),
            "cpu_vendor": vendor, "cpu_model": model,
            "cpu_dispatch_flags": sorted(flags.intersection(DISPATCH_FLAGS)),
            # TensorFlow's default is on for x86 builds; unset and "1" are the same setting
            "tf_enable_onednn_opts": environ.get("TF_ENABLE_ONEDNN_OPTS", "1")}


def fingerprint_differences(recorded: dict | None, current: dict) -> list[str]:
    """Why bytes need not match: each fact that differs, or that the model recorded none."""
    if not recorded:
        return ["the committed model records no training fingerprint (trained on an unrecorded machine)"]
    return [f"{key}: {recorded.get(key)!r} there, {current.get(key)!r} here"
            for key in sorted(set(recorded) | set(current)) if recorded.get(key) != current.get(key)]
