"""Whether a model's files are on this machine, found without the network.

A model named by a hub id that is not on disk must not cost a search a minute
of hub retries, nor the memory of importing torch to find that out: this
looks first, importing only `huggingface_hub`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["local_model_dir"]


def local_model_dir(name: str) -> Path | None:
    """The directory holding model `name`, or None when it is not on this machine.

    `name` is a directory, else a Hugging Face hub id looked up in the local
    cache only (what `HF_HUB_OFFLINE=1` allows; `HF_HOME` and
    `HF_HUB_CACHE` say where the cache is).
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, local_files_only=True))
    except Exception:  # not cached, or not a valid repo id at all
        return None
