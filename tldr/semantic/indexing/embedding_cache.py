"""The shared, content-addressed cache of vectors, keyed by (model, text format, text hash).

One SQLite database per user (`IndexPaths.embeddings`), shared by every
index, worktree and daemon: a second copy of a project embeds only what the
first did not. Design (specs/013-index-mode.md):

- Content-addressed: a row's key is sha256(model id, text format, text
  hash), so two writers of one key write the same vector; `INSERT OR IGNORE`
  in one transaction per batch, WAL and a long busy timeout let several
  processes write at once without losing or corrupting anything.
- Bounded: every row records when it was last used (refreshed on lookup at
  most hourly, so reads stay reads); past `TLDR_EMBEDDING_CACHE_MAX_MB` the
  least recently used rows are evicted. `auto_vacuum=INCREMENTAL` lets
  `prune` give the space back.
- Self-healing: a file that is not a usable database is moved aside with a
  one-line warning and replaced by an empty cache; a build never fails
  because of its cache.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tldr._exceptions import ConfigError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DEFAULT_MAX_MB", "EmbeddingCache", "cache_limit_bytes", "cache_stats", "prune"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_MB = 2048
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors ("
    " key BLOB PRIMARY KEY, space TEXT NOT NULL, vector BLOB NOT NULL, used INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used)",
)
_LOOKUP_CHUNK = 500  # stays under SQLite's bound-parameter limit
_TOUCH_AFTER_S = 3600  # a lookup refreshes `used` only when it is older than this
_EVICT_TO = 0.9  # eviction stops at this fraction of the limit
_BUSY_TIMEOUT_S = 60.0
_INCREMENTAL = 2  # PRAGMA auto_vacuum's value for incremental mode


def cache_limit_bytes() -> int:
    """`TLDR_EMBEDDING_CACHE_MAX_MB` (default 2048) in bytes."""
    from tldr.settings import setting

    return int(setting("TLDR_EMBEDDING_CACHE_MAX_MB") * 1024 * 1024)


def _connect(path: Path) -> sqlite3.Connection:
    """Open (creating) the cache database and check that it is one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, check_same_thread=False)
    try:
        db.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # only takes effect on a new file
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        with db:
            for statement in _SCHEMA:
                db.execute(statement)
        db.execute("SELECT key, space, vector, used FROM vectors LIMIT 1").fetchall()
    except BaseException:
        db.close()
        raise
    return db


def _busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _unusable(path: Path, exc: Exception) -> ConfigError:
    return ConfigError(f"cannot use the embedding cache {path}: {exc}; set "
                       "TLDR_EMBEDDING_CACHE to a writable directory")


def _open_or_replace(path: Path) -> sqlite3.Connection:
    """`_connect`, moving a damaged file aside (with one warning) and starting afresh.

    Raises:
        ConfigError: the cache cannot be created at all (an unwritable directory).
    """
    try:
        return _connect(path)
    except OSError as exc:
        raise _unusable(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        if _busy(exc):
            raise  # busy, not broken
        if not path.is_file():
            raise _unusable(path, exc) from exc  # nothing to move aside: cannot create it
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            pass  # another process moved it already
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        logger.warning("embedding cache %s is damaged (%s); moved to %s, starting a new one",
                       path, exc, aside.name)
    try:
        return _connect(path)
    except (OSError, sqlite3.Error) as exc:
        raise _unusable(path, exc) from exc


def _pages_in_use(db: sqlite3.Connection) -> int:
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    return int((pages - free) * page_size)


def _evict(db: sqlite3.Connection, limit: int) -> int:
    """Delete least recently used rows until the live size is under the limit; rows deleted."""
    deleted = 0
    while _pages_in_use(db) > limit:
        rows = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        if rows == 0:
            break
        excess = 1 - (limit * _EVICT_TO) / max(_pages_in_use(db), 1)
        batch = max(1, int(rows * excess))
        with db:
            db.execute(
                "DELETE FROM vectors WHERE key IN "
                "(SELECT key FROM vectors ORDER BY used LIMIT ?)", (batch,)
            )
        deleted += batch
    return deleted


class EmbeddingCache:
    """Vectors of one (model, revision, text format), looked up by text hash.

    `revision` names the weights when one model id can have several (a
    static model distilled again on this machine); a model without one keeps
    the key space it always had.
    """

    def __init__(self, path: Path, *, model_id: str, text_format: str, dimension: int,
                 revision: str = "") -> None:
        self.path = path
        self._db = _open_or_replace(path)
        model = f"{model_id}@{revision}" if revision else model_id
        self._space = f"{model}\0{text_format}"
        self._namespace = f"{self._space}\0".encode()
        self._dimension = dimension
        self._limit = cache_limit_bytes()

    def _key(self, text_digest: str) -> bytes:
        return hashlib.sha256(self._namespace + text_digest.encode()).digest()

    def _reopen(self, exc: sqlite3.DatabaseError) -> None:
        """The database broke under us: replace it (a cache loses nothing it cannot redo)."""
        logger.warning("embedding cache %s failed (%s)", self.path, exc)
        self._db.close()
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass
        self._db = _open_or_replace(self.path)

    def get_many(self, text_digests: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `text_digests`, by digest; marks them used."""
        try:
            return self._get_many(text_digests)
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise
            self._reopen(exc)
            return {}

    def _get_many(self, text_digests: Iterable[str]) -> dict[str, np.ndarray]:
        import numpy as np

        wanted = {self._key(digest): digest for digest in text_digests}
        found: dict[str, np.ndarray] = {}
        stale: list[bytes] = []
        now = int(time.time())
        keys = list(wanted)
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, vector, used FROM vectors WHERE key IN ({marks})", chunk
            ).fetchall()
            for key, blob, used in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == self._dimension:
                    found[wanted[key]] = vector
                    if used < now - _TOUCH_AFTER_S:
                        stale.append(key)
        if stale:
            with self._db:
                self._db.executemany("UPDATE vectors SET used = ? WHERE key = ?",
                                     [(now, key) for key in stale])
        return found

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store vectors by text digest (one transaction), then keep the cache in bounds."""
        import numpy as np

        now = int(time.time())
        rows = [
            (self._key(digest), self._space, np.asarray(vector, dtype=np.float32).tobytes(), now)
            for digest, vector in items
        ]
        try:
            with self._db:
                self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?, ?)", rows)
            _evict(self._db, self._limit)
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise
            self._reopen(exc)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


def cache_stats(path: Path) -> dict[str, Any]:
    """What `tldrf cache info` shows: size, limit, rows per (model, text format)."""
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    size = sum(file.stat().st_size for file in files if file.exists())
    result: dict[str, Any] = {
        "path": str(path), "exists": path.exists(), "size_bytes": size,
        "limit_bytes": cache_limit_bytes(), "live_bytes": 0, "vectors": 0, "spaces": [],
    }
    if not path.exists():
        return result
    db = _open_or_replace(path)
    try:
        result["live_bytes"] = _pages_in_use(db)
        for space, count, newest, oldest in db.execute(
            "SELECT space, COUNT(*), MAX(used), MIN(used) FROM vectors"
            " GROUP BY space ORDER BY space"
        ):
            model, _, text_format = space.partition("\0")
            result["spaces"].append({"model": model, "text_format": text_format,
                                     "vectors": count, "last_used": newest, "oldest": oldest})
            result["vectors"] += count
    finally:
        db.close()
    return result


def prune(path: Path, *, max_mb: float | None = None) -> dict[str, int]:
    """Evict least recently used vectors down to `max_mb` MiB and give the space back.

    `max_mb` defaults to `TLDR_EMBEDDING_CACHE_MAX_MB`; 0 empties the cache.
    `freed_bytes` is what the database and its write-ahead log lost on disk.

    Raises:
        ConfigError: `max_mb` is negative or not a finite number.
    """
    if max_mb is not None and not (math.isfinite(max_mb) and max_mb >= 0):
        raise ConfigError(f"cache size limit must be a number of MiB, zero or more "
                          f"(got {max_mb:g})")
    limit = cache_limit_bytes() if max_mb is None else int(max_mb * 1024 * 1024)
    if not path.exists():
        return {"evicted": 0, "freed_bytes": 0}
    before = _bytes_on_disk(path)
    db = _open_or_replace(path)
    try:
        evicted = _evict(db, limit)
        _vacuum(db)
    finally:
        db.close()
    return {"evicted": evicted, "freed_bytes": max(0, before - _bytes_on_disk(path))}


def _bytes_on_disk(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _vacuum(db: sqlite3.Connection) -> None:
    """Return free pages to the file system, then truncate the write-ahead log.

    SQLite's own locks guard the rewrite against the other processes sharing
    the cache (they wait on the busy timeout).
    """
    if db.execute("PRAGMA auto_vacuum").fetchone()[0] == _INCREMENTAL:
        # The pragma frees one page per step of the statement, and `execute`
        # runs a statement without result columns one step only (one page,
        # "freed 4.0 KiB"); `executescript` runs it to its end.
        db.executescript("PRAGMA incremental_vacuum;")
    else:  # made before auto_vacuum was set: switch it over with one rewrite
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
