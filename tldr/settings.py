"""Every setting: the `TLDR_*` environment variables, the config files, their precedence.

The one registry of tldrf's settings. Modules read a value with
`setting("TLDR_X")`, never `os.environ` directly, so a variable cannot be
read two ways or documented in one place and parsed in another; the table in
docs/usage.md is `settings_table()`, checked by a test.

Build settings: CLI flag > `TLDR_*` env var > the existing `metadata.json` >
`.tldr/config.toml` > the user's config file > defaults (DESIGN.md §
Settings precedence); `resolve_build_settings` applies it. Search settings
come from `metadata.json` alone. The user's config file is `config.toml` in
platformdirs' user config dir (`~/.config/tldrf/config.toml` on Linux;
`TLDR_USER_CONFIG` names another), with the same tables as a project's
`.tldr/config.toml`:

```toml
[semantic]
model = "all-MiniLM-L6-v2"
lang = ["python", "go"]
vector_backend = "usearch"

[vector_store.usearch]
connectivity = 16
```

Standard library only, and cheap: the thin client reads its timeouts here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from tldr._exceptions import ConfigError

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MODEL",
    "DEFAULT_RERANK_MODEL",
    "SETTINGS",
    "BuildSettings",
    "Setting",
    "backend_settings",
    "default_device",
    "default_max_file_bytes",
    "parse_lang",
    "read_config_file",
    "resolve_build_settings",
    "setting",
    "settings_table",
    "user_config_file",
]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_BACKEND = "usearch"
DEFAULT_RERANK_MODEL = "cross-encoder/ms-marco-MiniLM-L-6-v2"


class Setting:
    """One environment variable: its default, parser and one line of documentation."""

    __slots__ = ("default", "doc", "keep_empty", "name", "parse", "shown_default")

    def __init__(self, name: str, default: Any, doc: str, *,
                 parse: Callable[[str, str], Any] | None = None,
                 shown_default: str | None = None, keep_empty: bool = False) -> None:
        self.name = name
        self.default = default
        self.doc = doc
        self.parse = parse or _text
        self.keep_empty = keep_empty
        self.shown_default = shown_default if shown_default is not None else (
            "unset" if default is None else str(default))

    def read(self, environ: Any = None) -> Any:
        """The value from the environment, else the default.

        An empty value counts as unset, except for `keep_empty` settings.
        """
        raw = (os.environ if environ is None else environ).get(self.name)
        if raw is None or (raw.strip() == "" and not self.keep_empty):
            return self.default
        return self.parse(self.name, raw)


def _text(name: str, raw: str) -> str:
    return raw.strip()


def _number(minimum: float, *, integer: bool = False) -> Callable[[str, str], float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum:g}, got {raw!r}")
        return value
    return parse


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _level(name: str, raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"{name} must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {raw!r}")
    return level


_INTEGER = _number(1, integer=True)

SETTINGS: dict[str, Setting] = {s.name: s for s in (
    # build
    Setting("TLDR_MODEL", None, "embedding model for builds: a registry name, hub id or "
            "local path (the default is bundled)", shown_default=DEFAULT_MODEL),
    Setting("TLDR_LANG", None, "comma-separated languages to index", shown_default="all"),
    Setting("TLDR_FAST_MODEL", None, "static model of the fast dense tier of first builds "
            "(static:<model> or static:<dir>; none = off)", shown_default="auto"),
    Setting("TLDR_VECTOR_BACKEND", None, "vector store backend for builds",
            shown_default=DEFAULT_BACKEND),
    Setting("TLDR_DEVICE", None, "cpu, cuda or mps for the embedding model",
            shown_default="auto"),
    Setting("TLDR_MAX_FILE_BYTES", 1024 * 1024, "files larger than this are skipped",
            parse=_INTEGER),
    Setting("TLDR_PARSE_WORKERS", None, "processes that parse a build's files when it has "
            "many to parse; 0 = parse in the build's own process",
            parse=_number(0, integer=True), shown_default="one per core"),
    Setting("TLDR_RERANK_MODEL", None, "cross-encoder for --rerank",
            shown_default=DEFAULT_RERANK_MODEL),
    Setting("TLDR_USER_CONFIG", None, "the user's config file, below each project's "
            ".tldr/config.toml", shown_default="platformdirs' user config dir/config.toml"),
    Setting("TLDR_LOAD_PLUGINS", None, "external plugins to load: unset = all, '' = none, "
            "'a,b' = only those distributions", keep_empty=True, shown_default="all"),
    # search and client
    Setting("TLDR_NO_DAEMON", False, "1: search in the calling process, not through the daemon",
            parse=_flag, shown_default="0"),
    Setting("TLDR_START_TIMEOUT", 15.0, "seconds a client waits for a daemon it started",
            parse=_number(0.1)),
    Setting("TLDR_REQUEST_TIMEOUT", 30.0, "seconds one daemon request may run",
            parse=_number(0.001)),
    # where things live
    Setting("TLDR_CACHE_ROOT", None, "index mode: keep indexes in DIR/indexes/<key>/, not in "
            "the project (also --cache-root)", shown_default="in-tree (.tldr/)"),
    Setting("TLDR_INDEX", None, "index mode: the index's name (also --index)",
            shown_default="semantic"),
    Setting("TLDR_USER_CACHE_DIR", None, "the user cache dir (index mode without a cache "
            "root, the shared embedding cache, ONNX exports)",
            shown_default="platformdirs' user cache dir"),
    Setting("TLDR_STATE_DIR", None, "where the registry of known indexes lives",
            shown_default="platformdirs' user state dir"),
    Setting("TLDR_EMBEDDING_CACHE", None, "directory of the shared embedding cache",
            shown_default="<user cache dir>/embeddings"),
    Setting("TLDR_EMBEDDING_CACHE_MAX_MB", 2048.0, "size bound of the shared embedding cache; "
            "least recently used vectors go first", parse=_number(0.001), shown_default="2048"),
    Setting("TLDR_RUNTIME_DIR", None, "where daemon sockets and pid files live (private, 0700)",
            shown_default="platformdirs' user runtime dir"),
    # daemon
    Setting("TLDR_DEBOUNCE_MS", 2000, "quiet time after a change before the daemon rebuilds",
            parse=_number(0, integer=True)),
    Setting("TLDR_FOLLOW_INTERVAL", 30.0, "seconds between a follower daemon's checks for a "
            "newer build of its shared index; 0 = never", parse=_number(0), shown_default="30"),
    Setting("TLDR_FOLLOW_TIMEOUT", 120.0, "seconds one follow of a shared index may take "
            "before the daemon gives up on a silent engine (it retries on the next check)",
            parse=_number(0.001), shown_default="120"),
    Setting("TLDR_IDLE_TIMEOUT", 1800.0, "seconds without requests before the daemon exits; "
            "0 = never", parse=_number(0), shown_default="1800"),
    Setting("TLDR_WORKER_IDLE_TIMEOUT", 120.0, "seconds without a build before the build "
            "worker exits, giving its model's memory back; 0 = keep it", parse=_number(0),
            shown_default="120"),
    Setting("TLDR_MAX_REQUEST_BYTES", 1024 * 1024, "the longest request line the daemon reads",
            parse=_number(1024, integer=True)),
    Setting("TLDR_LOG_LEVEL", "INFO", "log level of the daemon and its build worker",
            parse=_level),
    Setting("TLDR_MCP_LOG_LEVEL", "WARNING", "log level of `tldrf mcp` (stderr)", parse=_level),
)}


def setting(name: str) -> Any:
    """The current value of the `TLDR_*` variable `name` (its default when unset).

    Raises:
        ConfigError: the value does not parse (the message names the variable).
        KeyError: `name` is not a registered setting (a bug).
    """
    return SETTINGS[name].read()


def settings_table() -> str:
    """The Markdown table of every setting, as docs/usage.md shows it."""
    lines = ["| variable | default | |", "| --- | --- | --- |"]
    lines += [f"| `{s.name}` | {s.shown_default} | {s.doc} |" for s in SETTINGS.values()]
    return "\n".join(lines)


DEFAULT_MAX_FILE_BYTES: int = SETTINGS["TLDR_MAX_FILE_BYTES"].default


class BuildSettings(NamedTuple):
    """What an index is built with; a change of any of these means a full build.

    A named tuple, not a dataclass: this module is on the thin client's path,
    and dataclasses import `inspect` (tens of milliseconds).
    """

    model: str = DEFAULT_MODEL
    lang: tuple[str, ...] | None = None
    vector_backend: str = DEFAULT_BACKEND
    backend_settings: Mapping[str, Any] = MappingProxyType({})


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
    merged = _checked(user_config_file()) if user else {}
    for table, values in _checked(path).items():
        if isinstance(values, dict) and isinstance(merged.get(table), dict):
            merged[table] = _merge(merged[table], values)
        else:
            merged[table] = values
    return merged


# The `[semantic]` keys a config file may set, and what each must be.
_SEMANTIC_KEYS = {
    "model": "a model name, hub id or local path (a string)",
    "lang": 'a language or a list of them (e.g. ["python", "go"])',
    "vector_backend": "a backend id (a string)",
}


def _checked(path: Path) -> dict[str, Any]:
    """One config file, its `[semantic]` table validated: applied, or rejected by name.

    Raises:
        ConfigError: naming the file and the key (unknown key, wrong type,
            unknown language).
    """
    document = _read_toml(path)
    table = document.get("semantic", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [semantic] must be a table")
    for key, value in table.items():
        if key not in _SEMANTIC_KEYS:
            raise ConfigError(f"{path}: unknown key [semantic] {key}; "
                              f"valid: {', '.join(_SEMANTIC_KEYS)}")
        wrong = not isinstance(value, str) and not (
            key == "lang" and isinstance(value, list)
            and all(isinstance(item, str) for item in value))
        if wrong:
            raise ConfigError(f"{path}: [semantic] {key} = {value!r} must be "
                              f"{_SEMANTIC_KEYS[key]}")
        if key == "lang":
            try:
                parse_lang(value)
            except ConfigError as exc:
                raise ConfigError(f"{path}: [semantic] lang: {exc}") from None
    return document


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
            loaded: dict[str, Any] = tomllib.load(handle)
            return loaded
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
    sources: dict[str, str] | None = None,
    config_first: bool = False,
) -> BuildSettings:
    """Apply the build precedence to each setting independently.

    With `config_first` (an explicit `--rebuild`) a value the config files
    set beats the recorded one. With `sources`, each setting's origin is
    written into it (`flag`, `env TLDR_X`, `metadata.json`, `config`,
    `default`) for `-v` to show.

    `recorded` holds what the active `metadata.json` says (None when there is
    no index yet); `config` is the parsed `.tldr/config.toml`.
    """
    semantic_config = config.get("semantic", {})

    def pick(flag: Any, env_name: str, recorded_value: Any, config_key: str, default: Any) -> Any:
        chosen, source = default, "default"
        if flag is not None:
            chosen, source = flag, "flag"
        elif env_value := setting(env_name):
            chosen, source = env_value, f"env {env_name}"
        elif config_key in semantic_config and (config_first or recorded is None):
            chosen, source = semantic_config[config_key], "config"
        elif recorded is not None:
            chosen, source = recorded_value, "metadata.json"
        if sources is not None:
            sources[config_key] = source
        return chosen

    chosen_model = pick(model, "TLDR_MODEL", recorded and recorded.model, "model", DEFAULT_MODEL)
    chosen_lang = pick(lang, "TLDR_LANG", recorded and recorded.lang, "lang", None)
    chosen_backend = pick(
        vector_backend,
        "TLDR_VECTOR_BACKEND",
        recorded and recorded.vector_backend,
        "vector_backend",
        DEFAULT_BACKEND,
    )
    chosen_settings = dict(config.get("vector_store", {}).get(chosen_backend, {}))
    return BuildSettings(
        model=str(chosen_model),
        lang=parse_lang(chosen_lang),
        vector_backend=str(chosen_backend),
        backend_settings=chosen_settings,
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
