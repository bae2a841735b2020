"""Build settings and their precedence.

Build settings: CLI flag > `TLDR_*` env var > the existing `metadata.json` >
`.tldr/config.toml` > the user's config file > defaults (DESIGN.md §
Settings precedence). Search settings come from `metadata.json` alone.

The environment variables, their defaults and documentation live in the
settings registry, `tldr.settings`; this module applies the precedence.
The user's config file is `config.toml` in platformdirs' user config dir
(`~/.config/tldrf/config.toml` on Linux; `TLDR_USER_CONFIG` names another),
with the same tables as a project's `.tldr/config.toml`:

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

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tldr._exceptions import ConfigError
from tldr.settings import DEFAULT_BACKEND, DEFAULT_MODEL, SETTINGS, setting

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
    "user_config_file",
]

DEFAULT_MAX_FILE_BYTES: int = SETTINGS["TLDR_MAX_FILE_BYTES"].default


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


def read_config_file(path: Path, *, user: bool = True) -> dict[str, Any]:
    """The parsed project config file `path` over the user's config file ({} if neither).

    Tables merge key by key: the project's values win.
    """
    merged = _read_toml(user_config_file()) if user else {}
    for table, values in _read_toml(path).items():
        if isinstance(values, dict) and isinstance(merged.get(table), dict):
            merged[table] = _merge(merged[table], values)
        else:
            merged[table] = values
    return merged


def user_config_file() -> Path:
    """`TLDR_USER_CONFIG`, else `config.toml` in platformdirs' user config dir."""
    configured = setting("TLDR_USER_CONFIG")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("tldrf", appauthor=False)) / "config.toml"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
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
        env_value = setting(env_name)
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
    device: str | None = setting("TLDR_DEVICE")
    return device


def default_max_file_bytes() -> int:
    """`TLDR_MAX_FILE_BYTES`, or 1 MiB."""
    return int(setting("TLDR_MAX_FILE_BYTES"))
