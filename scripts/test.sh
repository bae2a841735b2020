#!/usr/bin/env bash
# Set up the dev environment (scripts/setup.sh --dev), check lint and types
# (ruff, mypy --strict), and run the whole test suite. With arguments, only
# pytest runs, with them (`bash scripts/test.sh tests/units -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
venv=${TLDR_VENV:-.venv}
if [ "$#" = 0 ]; then
    "$venv/bin/ruff" check tldr tests scripts examples
    "$venv/bin/mypy" tldr
fi
exec "$venv/bin/python" -m pytest -q "$@"
