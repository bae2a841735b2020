"""A durable cache of vectors keyed by (model id, text format, text hash).

SQLite in WAL mode: crash-safe, so a build killed halfway keeps the vectors it
already paid for, and the next build embeds only what is missing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["EmbeddingCache"]

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
_LOOKUP_CHUNK = 500  # stays under SQLite's bound-parameter limit


class EmbeddingCache:
    """Vectors of one (model, text format) pair, looked up by text hash."""

    def __init__(self, path: Path, *, model_id: str, text_format: str, dimension: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._namespace = f"{model_id}\0{text_format}\0".encode()
        self._dimension = dimension

    def _key(self, text_digest: str) -> bytes:
        return hashlib.sha256(self._namespace + text_digest.encode()).digest()

    def get_many(self, text_digests: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `text_digests`, by digest."""
        import numpy as np

        wanted = {self._key(digest): digest for digest in text_digests}
        found: dict[str, np.ndarray] = {}
        keys = list(wanted)
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk
            ).fetchall()
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == self._dimension:
                    found[wanted[key]] = vector
        return found

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store vectors by text digest (one transaction)."""
        import numpy as np

        rows = [
            (self._key(digest), np.asarray(vector, dtype=np.float32).tobytes())
            for digest, vector in items
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()
