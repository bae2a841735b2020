"""The build side: walk, extract, embed, store, commit, GC (DESIGN.md § Data flow 1-6)."""

__all__: list[str] = []
