"""The code graph and the analyses built on it (issue 22)."""

from __future__ import annotations

__all__: list[str] = []
