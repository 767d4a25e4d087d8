"""What the acceptance suite expects of each committed model (fixtures/models), measured.

* minmax: calibrated with the 8.13 g shock; the normal band gets ~33 codes (5 bits) and the device
  recalls ~0.1-0.25 of normal windows against ~0.97 in float: COLLAPSED.
* minmax_qat: the same squeezed input (COLLAPSED input codes); QAT wins back most of the normal
  class but not all of it (device normal recall ~0.82-0.84 vs float ~0.97, a 0.12-0.17 drop):
  DEGRADED. It does not recover, so it is not expected to pass.
* robust, log1p, two_stage, robust_qat: 6.2-7.6 bits in the band, recalls within a few windows of
  float: OK.
"""

from __future__ import annotations

from harness.quant.verdict import COLLAPSED, DEGRADED, OK

EXPECTED_VERDICTS = {"minmax": COLLAPSED, "minmax_qat": DEGRADED, "robust": OK, "log1p": OK,
                     "two_stage": OK, "robust_qat": OK}
EXPECTED_INPUT_VERDICTS = {"minmax": COLLAPSED, "minmax_qat": COLLAPSED, "robust": OK, "log1p": OK,
                           "two_stage": OK, "robust_qat": OK}
