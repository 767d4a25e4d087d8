"""Does a model's report say what its bundle expects? (Zephyr's sample.yaml: the expectation
lives beside the artifact it judges, in the bundle's ``expectations`` section.)

Without expectations, a model passes only when its verdict is OK: the suite fails closed, so a
COLLAPSED model nobody wrote an expectation for exits 1.

The fixtures' expectations (fixtures/models/*.json, written by hil train from
harness.models.variants), as measured:
* minmax: calibrated with the 8.13 g shock; the normal band gets 34 codes (5.1 bits) and the device
  recalls 0.16 (CI, 32 windows) / 0.23 (hil run, 64) of normal windows against 0.98-0.99 in float:
  COLLAPSED.
* minmax_qat: the same squeezed input (32 codes, COLLAPSED input codes); QAT wins back most of the
  normal class but not all of it: DEGRADED, the input's resolution is gone whatever the outputs.
* robust, log1p, two_stage, robust_qat: 6.2-7.7 bits in the band, recalls within a few windows of
  float: OK.
"""

from __future__ import annotations

from harness.quant.verdict import OK


def verdict_failures(report, expectations) -> list[str]:
    """Why the model verdict fails its bundle's expectation (or, without one, is not OK)."""
    if expectations.verdict is None:
        if expectations.input_verdict is None and report.status != OK:
            return [f"verdict {report.status} and the bundle expects nothing (no 'expectations'): "
                    f"a model that is not OK fails; {report.reason}"]
        return []
    if report.status != expectations.verdict:
        return [f"verdict {report.status}, the bundle expects {expectations.verdict}: {report.reason}"]
    return []


def input_verdict_failures(report, expectations) -> list[str]:
    expected = expectations.input_verdict
    if expected is None:
        return []
    if report.input_verdict.status != expected:
        return [f"input-code verdict {report.input_verdict.status}, the bundle expects {expected}: "
                f"{report.input_verdict.reason}"]
    return []
