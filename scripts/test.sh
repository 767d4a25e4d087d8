#!/usr/bin/env bash
# Run the whole test suite (installs what is missing first). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --install-only
exec .venv/bin/python -m pytest "$@"
