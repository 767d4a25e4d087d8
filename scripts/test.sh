#!/usr/bin/env bash
# Run the whole test suite (installs what is missing first). Arguments go to pytest.
#
# Test files run in parallel, one file per pytest-xdist worker at a time (--dist loadfile, so a
# file's session fixtures are made once), one worker per core. HIL_TEST_WORKERS=N sets the count;
# HIL_TEST_WORKERS=0 runs everything in this process.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --install-only
workers="${HIL_TEST_WORKERS:-auto}"
if [ "$workers" = "0" ]; then
    exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
