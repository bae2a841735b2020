#!/usr/bin/env bash
# Set up tldrf in ./.venv on a fresh machine: a CPU build of torch first (so
# nothing pulls gigabytes of CUDA packages), then tldrf itself.
#
#   bash scripts/setup.sh          # tldrf
#   bash scripts/setup.sh --dev    # tldrf, test tools, optional backends, example plugin
#
# Overrides (environment):
#   PYTHON               interpreter to create the venv with (default python3)
#   TLDR_VENV            venv directory (default .venv)
#   TLDR_TORCH_SPEC      torch requirement (default torch==2.13.0)
#   TLDR_TORCH_INDEX_URL where to get it when no local wheel is configured
#                        (default https://download.pytorch.org/whl/cpu; set it to
#                        https://download.pytorch.org/whl/cu128 for CUDA)
#   TLDR_SKIP_TORCH=1    keep whatever torch the venv already has
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${TLDR_VENV:-.venv}
python=${PYTHON:-python3}
torch_spec=${TLDR_TORCH_SPEC:-torch==2.13.0}
torch_index=${TLDR_TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

if [ "${TLDR_SKIP_TORCH:-0}" != 1 ] && ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    # A wheel already on this machine (pip's find-links) wins, its dependencies
    # then come from the usual index; else everything from the CPU index.
    if "${pip[@]}" install -q --no-index --no-deps "$torch_spec" 2>/dev/null; then
        "${pip[@]}" install -q "$torch_spec"
    else
        "${pip[@]}" install -q "$torch_spec" --index-url "$torch_index"
    fi
fi

if [ "${1:-}" = "--dev" ]; then
    "${pip[@]}" install -q -e ".[dev,faiss,qdrant,mcp]" -e examples/tldr-plugin-example
else
    "${pip[@]}" install -q -e .
fi
echo "tldrf is ready: $venv/bin/tldrf"
