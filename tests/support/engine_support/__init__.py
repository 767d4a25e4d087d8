"""Test-only engine tooling: it reads tests/ and firmware/tests/, so it is not in the shipped package.

  engine_support.random_models  seeded random INT8 models for bit-exactness tests, fuzz corpora, benchmarks
  engine_support.fuzz           libFuzzer builds and bounded runs of firmware/tests/fuzz/
  engine_support.qemu_selftest  the engine cross-compiled with tests/engine/qemu/ for QEMU's mps2-an386

Importable as ``engine_support`` because the root conftest.py puts tests/support/ on sys.path
(benchmarks insert it themselves).
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
