"""Nightly runs: one history row per model and run (Parquet), comparison with the previous run and
a pinned baseline, and the regression rules a nightly job fails on.

- ``harness.nightly.history``: rows from a suite run's summary.json + windows.parquet, the
  Parquet history (append, read), the trend table and plot of ``hil history``.
- ``harness.nightly.compare``: the regression rules (accuracy drop, a new collapse, a cost
  increase), the previous run, the pinned baseline (JSON or Parquet).
- ``harness.nightly.models_dir``: run the suite on another models folder (``hil run --models-dir``).
"""
