from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tldr_plugin_example import ExampleFlatStore

from tldr.testing import VectorStoreContract


class TestExampleFlatContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ExampleFlatStore]:
        store = ExampleFlatStore(store_dir=tmp_path / "store")
        yield store
        store.close()
