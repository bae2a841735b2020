"""Every `TLDR_*` environment variable: its default, how it is read, what it does.

The one registry of tldrf's settings. Modules read a value with
`setting("TLDR_X")`, never `os.environ` directly, so a variable cannot be
read two ways or documented in one place and parsed in another; the table in
docs/usage.md is `settings_table()`, checked by a test. Build settings that a
project can also set in `.tldr/config.toml` (model, languages, backend) are
resolved with their precedence by `tldr.config`.

Standard library only, and cheap: the thin client reads its timeouts here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tldr._exceptions import ConfigError

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_MODEL",
    "DEFAULT_RERANK_MODEL",
    "SETTINGS",
    "Setting",
    "setting",
    "settings_table",
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
