"""Settings and their precedence.

Build settings: CLI flag > `TLDR_*` env var > the existing `metadata.json` >
`.tldr/config.toml` > defaults (DESIGN.md § Settings precedence). Search
settings come from `metadata.json` alone.

Environment variables:

- `TLDR_MODEL`: embedding model name, id or local path.
- `TLDR_LANG`: comma-separated languages to index (default: all supported).
- `TLDR_VECTOR_BACKEND`: vector store backend id for builds.
- `TLDR_DEVICE`: `cpu`, `cuda`, `mps` (default: auto).
- `TLDR_MAX_FILE_BYTES`: files larger than this are skipped (default 1 MiB).

`.tldr/config.toml`:

```toml
[semantic]
model = "all-MiniLM-L6-v2"
lang = ["python", "go"]
vector_backend = "usearch"

[vector_store.usearch]
connectivity = 16
```
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tldr._exceptions import ConfigError

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MODEL",
    "BuildSettings",
    "default_device",
    "default_max_file_bytes",
    "parse_lang",
    "backend_settings",
    "read_config_file",
    "resolve_build_settings",
]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_BACKEND = "usearch"
DEFAULT_MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class BuildSettings:
    """What an index is built with; a change of any of these means a full build."""

    model: str = DEFAULT_MODEL
    lang: tuple[str, ...] | None = None
    vector_backend: str = DEFAULT_BACKEND
    backend_settings: dict[str, Any] = field(default_factory=dict)


def parse_lang(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Normalise a language selection: None (all) or a sorted tuple of names."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    names = sorted({item.strip().lower() for item in items if item.strip()})
    if not names or names == ["all"]:
        return None
    from tldr.units import SUPPORTED_LANGUAGES

    unknown = [name for name in names if name not in SUPPORTED_LANGUAGES]
    if unknown:
        raise ConfigError(
            f"unknown language(s): {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(SUPPORTED_LANGUAGES))}"
        )
    return tuple(names)


def read_config_file(path: Path) -> dict[str, Any]:
    """The parsed `.tldr/config.toml`, or {} when there is none."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def resolve_build_settings(
    *,
    config: dict[str, Any],
    recorded: BuildSettings | None,
    model: str | None = None,
    lang: str | list[str] | tuple[str, ...] | None = None,
    vector_backend: str | None = None,
) -> BuildSettings:
    """Apply the build precedence to each setting independently.

    `recorded` holds what the active `metadata.json` says (None when there is
    no index yet); `config` is the parsed `.tldr/config.toml`.
    """
    semantic_config = config.get("semantic", {})

    def pick(flag: Any, env_name: str, recorded_value: Any, config_key: str, default: Any) -> Any:
        if flag is not None:
            return flag
        env_value = os.environ.get(env_name)
        if env_value:
            return env_value
        if recorded is not None:
            return recorded_value
        return semantic_config.get(config_key, default)

    chosen_model = pick(model, "TLDR_MODEL", recorded and recorded.model, "model", DEFAULT_MODEL)
    chosen_lang = pick(lang, "TLDR_LANG", recorded and recorded.lang, "lang", None)
    chosen_backend = pick(
        vector_backend,
        "TLDR_VECTOR_BACKEND",
        recorded and recorded.vector_backend,
        "vector_backend",
        DEFAULT_BACKEND,
    )
    backend_settings = dict(config.get("vector_store", {}).get(chosen_backend, {}))
    return BuildSettings(
        model=str(chosen_model),
        lang=parse_lang(chosen_lang),
        vector_backend=str(chosen_backend),
        backend_settings=backend_settings,
    )


def backend_settings(config_path: Path, backend_id: str) -> dict[str, Any]:
    """The `[vector_store.<backend_id>]` table of a config file ({} if none).

    Searches and GC open a store with these too: a server URL or API key
    variable is needed to read an index as much as to write it.
    """
    return dict(read_config_file(config_path).get("vector_store", {}).get(backend_id, {}))


def default_device() -> str | None:
    """`TLDR_DEVICE`, or None to let the embedder choose (cuda > mps > cpu)."""
    return os.environ.get("TLDR_DEVICE") or None


def default_max_file_bytes() -> int:
    """`TLDR_MAX_FILE_BYTES`, or 1 MiB."""
    value = os.environ.get("TLDR_MAX_FILE_BYTES")
    if not value:
        return DEFAULT_MAX_FILE_BYTES
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"TLDR_MAX_FILE_BYTES must be an integer, got {value!r}") from exc
