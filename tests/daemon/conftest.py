"""Fixtures for the daemon tests: small projects, in-process daemons, raw clients.

Every daemon a test starts is stopped in the fixture's teardown; each test
has its own runtime dir (tests/conftest.py sets TLDR_RUNTIME_DIR).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from daemon_helpers import RawClient, running_daemon, write_project

from tldr.daemon.client import stop_daemon
from tldr.daemon.runner import Daemon
from tldr.paths import daemon_files


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project without an index."""
    return write_project(tmp_path / "proj")


@pytest.fixture
def built(project: Path) -> Path:
    """A small project indexed with the deterministic hash-256 model."""
    from tldr.semantic import build_semantic_index

    build_semantic_index(project, model="hash-256")
    return project


@pytest.fixture
async def daemon(built: Path) -> AsyncIterator[Daemon]:
    """An in-process daemon on `built` (debounce 100 ms, no idle shutdown)."""
    async with running_daemon(built) as instance:
        yield instance


@pytest.fixture
async def raw(daemon: Daemon) -> AsyncIterator[RawClient]:
    client = await RawClient.open(daemon)
    yield client
    await client.close()


@pytest.fixture
def stop_after() -> Iterator[list[Path]]:
    """Projects whose subprocess daemons are stopped at teardown."""
    roots: list[Path] = []
    yield roots
    for root in roots:
        stop_daemon(daemon_files(root), timeout=5.0)
