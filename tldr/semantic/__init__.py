"""Units -> embedding text -> vectors -> index; search, ranking, build/commit/GC.

The Python API:

```python
from tldr.semantic import build_semantic_index, semantic_search
build_semantic_index(".")                       # or model=, lang=, vector_backend=, rebuild=
rows = semantic_search(".", "parse the config file", k=10)
follow_shared_index(".")   # a team index on a server (docs/shared-index.md)
```

Importing this package loads no vector store library and no model.
"""

from tldr.semantic.indexing.freshness import is_up_to_date
from tldr.semantic.indexing.pipeline import BuildReport, build_semantic_index
from tldr.semantic.query.info import index_info
from tldr.semantic.query.search import MODES, ROW_FIELDS, Searcher, semantic_search
from tldr.semantic.shared import FollowReport, follow_shared_index

__all__ = [
    "MODES",
    "ROW_FIELDS",
    "BuildReport",
    "FollowReport",
    "Searcher",
    "build_semantic_index",
    "follow_shared_index",
    "index_info",
    "is_up_to_date",
    "semantic_search",
]
