"""Watch a project for source changes (watchfiles) and report the relevant ones.

The filter mirrors the build's walker closely enough to avoid useless
rebuilds: VCS, cache, vendored and build directories, `.tldr/`, paths the
root `.gitignore`/`.tldrignore` exclude, and files of no indexed language are
dropped. The build's walker stays the authority; a change let through here
at worst costs a cheap incremental build. Deleting `.tldr/` (or its
`metadata.json`) and a replaced `metadata.json` are reported as index events.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from tldr.units import language_for_path
from tldr.units.walk import IGNORE_FILES, SKIPPED_DIRECTORIES, read_ignore_rules, skipped_directory

__all__ = ["ChangeFilter", "Watcher"]

logger = logging.getLogger(__name__)

Kind = Literal["source", "index"]
_INDEX_PATHS = frozenset({".tldr", ".tldr/cache", ".tldr/cache/semantic",
                          ".tldr/cache/semantic/metadata.json"})
_CONFIG = ".tldr/config.toml"


class ChangeFilter:
    """Decides whether a changed path matters to the index."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root_str = str(root)
        self._rules: list[Any] = []
        self._load_rules()

    def _load_rules(self) -> None:
        self._rules = read_ignore_rules(self.root, IGNORE_FILES)

    def relative(self, path: str) -> str | None:
        """`path` relative to the root with `/` separators, or None if outside."""
        absolute = os.path.join(self._root_str, path) if not os.path.isabs(path) else path
        rel = os.path.relpath(os.path.normpath(absolute), self._root_str)
        if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
            return None
        return rel.replace(os.sep, "/")

    def classify(self, path: str) -> Kind | None:
        """"source" for a change that may alter the index, "index" for one to the index itself."""
        rel = self.relative(path)
        if rel is None:
            return None
        parts = rel.split("/")
        if parts[0] == ".tldr":
            if rel in _INDEX_PATHS:
                return "index"
            return "source" if rel == _CONFIG else None
        if any(part in SKIPPED_DIRECTORIES and skipped_directory(self.root.joinpath(*parts[:n + 1]))
               for n, part in enumerate(parts[:-1])):
            return None
        if parts[-1] in IGNORE_FILES:
            if len(parts) == 1:
                self._load_rules()
            return "source"
        if self._ignored(rel):
            return None
        if language_for_path(rel) is not None and not os.path.isdir(
            os.path.join(self._root_str, rel)
        ):
            return "source"  # any text file is indexed; a new directory holds no text yet
        # A deleted or renamed directory arrives as one event without an extension.
        if "." not in parts[-1] and not os.path.exists(os.path.join(self._root_str, rel)):
            return "source"
        return None

    def _ignored(self, rel: str) -> bool:
        verdict = False
        for spec in self._rules:
            result = spec.check_file(rel)
            if result.include is not None:
                verdict = result.include
        return verdict

    def __call__(self, change: Any, path: str) -> bool:
        """The watchfiles filter interface."""
        return self.classify(path) is not None


class Watcher:
    """Runs watchfiles over the project and hands batches of changes on."""

    def __init__(
        self,
        root: Path,
        change_filter: ChangeFilter,
        on_changes: Callable[[list[tuple[str, str]]], None],
        *,
        group_ms: int,
    ) -> None:
        self.group_ms = group_ms
        self.root = root
        self.filter = change_filter
        self.on_changes = on_changes
        self.state = "stopped"
        self.error: str | None = None
        self.events = 0
        self.last_event_at: float | None = None
        self._stop = asyncio.Event()

    def status(self) -> dict[str, Any]:
        """What status reports about the watcher."""
        return {
            "state": self.state,
            "error": self.error,
            "events": self.events,
            "last_event_age_s": None if self.last_event_at is None
            else round(time.time() - self.last_event_at, 3),
        }

    def stop(self) -> None:
        """Ask `run` to return."""
        self._stop.set()

    async def run(self) -> None:
        """Watch until `stop`; a failing watcher is logged and restarted with polling."""
        force_polling = False
        while not self._stop.is_set():
            try:
                await self._watch(force_polling=force_polling)
                return
            except Exception as exc:
                self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
                logger.error("watcher failed (%s); retrying with polling in 2s", self.error)
                force_polling = True
                try:
                    await asyncio.wait_for(self._stop.wait(), 2.0)
                except asyncio.TimeoutError:
                    pass
        self.state = "stopped"

    async def _watch(self, *, force_polling: bool) -> None:
        from watchfiles import awatch

        self.state = "polling" if force_polling else "watching"
        async for changes in awatch(
            self.root,
            watch_filter=self.filter,
            stop_event=self._stop,
            debounce=self.group_ms,
            step=50,
            recursive=True,
            ignore_permission_denied=True,
            force_polling=force_polling or None,
        ):
            batch = [(change.name, path) for change, path in changes]
            self.events += len(batch)
            self.last_event_at = time.time()
            logger.debug("watcher: %d change(s)", len(batch))
            self.on_changes(batch)
        self.state = "stopped"
