"""The build side (indexing): walk, extract, embed, store, commit, GC (DESIGN.md § Data flow 1-6).

Not named `build`: tools treat a `build/` folder as generated output.
"""

__all__: list[str] = []
