"""Bounded libFuzzer runs of the model reader and the frame decoder, plus replay of every
regression input in tests/fuzz/regressions/<target>/.

HIL_FUZZ_SECONDS sets the total fuzzing budget (default 40 s: 2/3 to the model reader, 1/3 to
the frame decoder); 0 skips the fuzzing runs but not the regression replay. A crash fails the
test and names the artifact to copy into tests/fuzz/regressions/<target>/.
"""

from __future__ import annotations

import os
import shutil

import pytest

from engine_support import fuzz
from harness.engine.build import DEFAULT_BUILD_DIR
from harness.paths import MODELS_DIR

TOTAL_SECONDS = float(os.environ.get("HIL_FUZZ_SECONDS", "40"))
SHARE = {"fuzz_model_reader": 2 / 3, "fuzz_frame_decoder": 1 / 3}
WORK_DIR = DEFAULT_BUILD_DIR / "fuzz"

pytestmark = pytest.mark.skipif(shutil.which(os.environ.get("HIL_FUZZ_CC", "clang")) is None,
                                reason="clang with libFuzzer is not installed (apt-get install clang)")


def seed_corpus(name: str):
    seeds = WORK_DIR / f"seeds_{name}"
    if name == "fuzz_model_reader":
        fuzz.write_model_corpus(seeds, range(50_000, 50_048))
        fuzz.write_model_corpus(seeds, range(50_000, 50_032), sixteen_by_eight=True)
    else:
        fuzz.write_frame_corpus(seeds)
    return seeds


@pytest.mark.parametrize("name", sorted(SHARE))
def test_fuzz_target_finds_no_crash(name):
    seconds = TOTAL_SECONDS * SHARE[name]
    if seconds < 1:
        pytest.skip("HIL_FUZZ_SECONDS=0: fuzzing runs disabled")
    corpus = WORK_DIR / f"corpus_{name}"
    seeds = [seed_corpus(name)]
    committed = MODELS_DIR
    if name == "fuzz_model_reader" and any(committed.glob("*.tflite")):
        seeds.append(committed)  # read only: libFuzzer adds new inputs to the first directory
    result = fuzz.run(name, seconds, [corpus, *seeds], WORK_DIR / f"run_{name}")
    assert not result.crashed, (
        f"{name} crashed (exit {result.exit_code}); log {result.log_path}; copy "
        f"{[str(a) for a in result.artifacts]} into {fuzz.REGRESSION_DIR / name}/")
    assert result.executions > 1000, f"{name} barely ran: {result.executions} executions; see {result.log_path}"
    print(f"{name}: {result.executions} executions, {result.exec_per_sec} exec/s in {seconds:.0f} s")


@pytest.mark.parametrize("name", sorted(SHARE))
def test_regression_inputs_replay_cleanly(name):
    inputs = fuzz.regression_inputs(name)
    assert inputs, f"no regression inputs in {fuzz.REGRESSION_DIR / name}"
    proc = fuzz.replay(name, inputs)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert proc.stderr.count("Executed ") == len(inputs), proc.stderr[-2000:]
