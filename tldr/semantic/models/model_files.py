"""Whether a model's files are on this machine, found without the network.

A model named by a hub id that is not on disk must not cost a search a minute
of hub retries, nor the memory of importing torch to find that out, nor the
seconds of importing `huggingface_hub` on a loaded machine: this reads the
Hugging Face cache's documented layout with the standard library only
(`<hub cache>/models--<org>--<name>/refs/main` names the snapshot directory
`snapshots/<commit>/`), which is what `snapshot_download(repo_id,
local_files_only=True)` resolves (a test checks that they agree).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["hub_cache_dir", "local_model_dir"]


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache: `HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`, else `<HF_HOME>/hub`."""
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "huggingface",
    )
    cache = (os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
             or os.path.join(os.path.expandvars(home), "hub"))
    return Path(os.path.expandvars(cache)).expanduser()


def local_model_dir(name: str) -> Path | None:
    """The directory holding model `name`, or None when it is not on this machine.

    `name` is a directory, else a hub id (`org/name`) whose snapshot of the
    main branch is in the local cache; nothing is downloaded or imported.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    parts = name.split("/")
    if len(parts) != 2 or not all(parts) or any(part in (".", "..") for part in parts):
        return None  # not a hub id
    repo = hub_cache_dir() / f"models--{parts[0]}--{parts[1]}"
    try:
        commit = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    snapshot = repo / "snapshots" / commit
    return snapshot if commit and snapshot.is_dir() else None
