"""The query side: load a committed build, retrieve (dense + lexical), rank, describe."""

__all__: list[str] = []
