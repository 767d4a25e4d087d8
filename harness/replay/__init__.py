"""Field-failure replay: find where a long recording breaks the INT8 pipeline (host triage,
streamed and journaled), confirm it on the device, shrink it into a regression case.

Modules: ``reader`` (chunked import and windowing), ``triage`` (float vs host INT8 per window),
``journal`` (append-only, fingerprinted, resumable), ``run`` (triage, confirmation), ``report``,
``shrink`` (ddmin, fixtures/field cases), ``cases`` (replaying a case on host and device).
The planted-event recording the tests and benchmarks use is test tooling:
``tests/support/field_recording.py``.
See docs/replay.md.
"""
