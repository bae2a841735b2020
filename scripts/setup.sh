#!/usr/bin/env bash
# Set up tldrf in ./.venv on a fresh machine: a CPU build of torch first (so
# nothing pulls gigabytes of CUDA packages), then tldrf itself.
#
#   bash scripts/setup.sh          # tldrf
#   bash scripts/setup.sh --dev    # tldrf, test tools, optional backends, example plugin
#   bash scripts/setup.sh -q       # no step lines (errors are still printed)
#
# Each step prints one line; the last two export the bundled model to ONNX
# (about a minute, once per machine) so the first search does not wait for it,
# and distil the fast tier's static model from it (spec 020; one to two minutes).
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

dev=0 quiet=0
for arg in "$@"; do
    case "$arg" in
        --dev) dev=1 ;;
        -q|--quiet) quiet=1 ;;
        *) echo "setup.sh: unknown option $arg (use --dev, -q)" >&2; exit 2 ;;
    esac
done
step() { [ "$quiet" = 1 ] || echo "setup: $*"; }

venv=${TLDR_VENV:-.venv}
python=${PYTHON:-python3}
torch_spec=${TLDR_TORCH_SPEC:-torch==2.13.0}
torch_index=${TLDR_TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}

if [ ! -x "$venv/bin/python" ]; then
    step "creating the virtual environment $venv"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

if [ "${TLDR_SKIP_TORCH:-0}" != 1 ] && ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    step "installing $torch_spec (CPU build unless TLDR_TORCH_INDEX_URL says otherwise; ~1-2 min)"
    # A wheel already on this machine (pip's find-links) wins, its dependencies
    # then come from the usual index; else everything from the CPU index.
    if "${pip[@]}" install -q --no-index --no-deps "$torch_spec" 2>/dev/null; then
        "${pip[@]}" install -q "$torch_spec"
    else
        "${pip[@]}" install -q "$torch_spec" --index-url "$torch_index"
    fi
fi

if [ "$dev" = 1 ]; then
    step "installing tldrf with its dev tools, optional backends and example plugin"
    "${pip[@]}" install -q -e ".[dev,faiss,qdrant,chromadb,milvus,mcp]" -e examples/tldr-plugin-example
else
    # As a user installs it, not editable: setuptools' editable finder costs
    # every command about 11 ms of start-up.
    step "installing tldrf"
    "${pip[@]}" install -q ".[mcp]"
fi

step "preparing the default model for ONNX Runtime (exported from the bundled weights, once)"
HF_HUB_OFFLINE=1 "$venv/bin/python" -c "
import sys
from tldr import TldrError
from tldr.semantic.models.embedders import get_embedder
try:
    get_embedder('all-MiniLM-L6-v2').embed_query('ready')
except TldrError as exc:
    sys.exit(f'setup: {exc}')"

step "distilling the fast tier's static model from the bundled weights (once; a minute or two)"
HF_HUB_OFFLINE=1 "$venv/bin/python" -c "
import sys
from tldr import TldrError
from tldr.semantic.models.static_distill import distilled_model
try:
    distilled_model('all-MiniLM-L6-v2')
except TldrError as exc:
    print(f'setup: {exc} (first builds will have no fast tier)', file=sys.stderr)"

step "ready: $venv/bin/tldrf"
