#!/usr/bin/env bash
# Set up the dev environment (scripts/setup.sh --dev) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "${TLDR_VENV:-.venv}/bin/python" -m pytest -q "$@"
