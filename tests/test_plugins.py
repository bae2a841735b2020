from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from tldr import PluginError, UnknownBackendError, plugins
from tldr.hookspecs import hookimpl
from tldr.vector_store import get_backend
from tldr.vector_store._exact import ExactVectorStore


@pytest.fixture(autouse=True)
def _fresh_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # These tests decide themselves whether entry points load.
    monkeypatch.delattr(sys, "_called_from_test", raising=False)
    plugins._reset()
    yield
    plugins._reset()


def _fake_distribution(
    root: Path, name: str, module_source: str, *, requires: str | None = None
) -> None:
    """Write an installed-looking distribution `name` whose `tldr` entry point is a module."""
    module = name.replace("-", "_")
    (root / f"{module}.py").write_text(module_source)
    info = root / f"{module}-0.3.dist-info"
    info.mkdir()
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.3\n"
    if requires:
        meta += f"Requires-Dist: {requires}\n"
    (info / "METADATA").write_text(meta)
    (info / "entry_points.txt").write_text(f"[tldr]\n{module} = {module}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    for name in list(sys.modules):
        if name.startswith("fake_"):
            del sys.modules[name]


_GOOD = """
from tldr.hookspecs import hookimpl
from tldr.vector_store._exact import ExactVectorStore

class GoodStore(ExactVectorStore):
    backend_id = "fake-good"

@hookimpl
def register_vector_stores(register):
    register(GoodStore)
"""


def _backend_sources() -> dict[str, str]:
    return {bid: reg.source for bid, reg in plugins.registered_vector_stores().items()}


def test_builtins_always_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLDR_LOAD_PLUGINS", "")
    sources = _backend_sources()
    assert {"usearch", "exact", "faiss", "qdrant"} <= set(sources)
    assert sources["usearch"] == plugins.BUILTIN_SOURCE
    assert all(source == plugins.BUILTIN_SOURCE for source in sources.values())
    info = {p.name: p for p in plugins.get_plugins()}
    builtin = info["tldr.vector_store.builtin"]
    assert builtin.distribution is None
    assert builtin.hooks == ("register_vector_stores",)


def test_load_is_idempotent() -> None:
    plugins.load_plugins()
    first = plugins.get_plugins()
    plugins.load_plugins()
    assert plugins.get_plugins() == first
    assert plugins.registered_vector_stores() == plugins.registered_vector_stores()


def test_load_is_thread_safe() -> None:
    errors: list[BaseException] = []

    def load() -> None:
        try:
            plugins.load_plugins()
            plugins.registered_vector_stores()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = [p.name for p in plugins.get_plugins()]
    assert len(names) == len(set(names))


def test_unset_loads_all_entry_points(site: Path) -> None:
    _fake_distribution(site, "fake-good", _GOOD)
    sources = _backend_sources()
    assert sources["fake-good"] == "fake-good"
    info = {p.distribution: p for p in plugins.get_plugins()}
    assert info["fake-good"].version == "0.3"


def test_empty_loads_none(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(site, "fake-good", _GOOD)
    monkeypatch.setenv("TLDR_LOAD_PLUGINS", "")
    assert "fake-good" not in _backend_sources()
    assert all(p.distribution is None for p in plugins.get_plugins())


def test_list_loads_only_named(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(site, "fake-good", _GOOD)
    _fake_distribution(site, "fake-other", _GOOD.replace("fake-good", "fake-other"))
    monkeypatch.setenv("TLDR_LOAD_PLUGINS", "fake_other, nothing-such")
    sources = _backend_sources()
    assert "fake-other" in sources and "fake-good" not in sources


def test_test_sentinel_skips_entry_points_unless_asked(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_distribution(site, "fake-good", _GOOD)
    monkeypatch.setattr(sys, "_called_from_test", True, raising=False)
    assert "fake-good" not in _backend_sources()
    plugins._reset()
    monkeypatch.setenv("TLDR_LOAD_PLUGINS", "fake-good")
    assert "fake-good" in _backend_sources()


def test_example_plugin_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tldr_plugin_example")
    monkeypatch.setenv("TLDR_LOAD_PLUGINS", "tldr-plugin-example")
    cls = get_backend("example-flat")
    assert plugins.registered_vector_stores()["example-flat"].source == "tldr-plugin-example"
    assert cls.is_available()[0]


def test_import_failure_is_recorded(site: Path) -> None:
    _fake_distribution(site, "fake-broken", "raise ImportError('no such thing')\n")
    _fake_distribution(site, "fake-good", _GOOD)
    assert "fake-good" in _backend_sources()
    failed = plugins.failed_plugins()
    assert [(f.distribution, f.entry_point) for f in failed] == [("fake-broken", "fake_broken")]
    assert "no such thing" in failed[0].error
    assert get_backend("usearch").backend_id == "usearch"


def test_raising_hook_is_recorded(site: Path) -> None:
    source = (
        "from tldr.hookspecs import hookimpl\n"
        "@hookimpl\n"
        "def register_vector_stores(register):\n"
        "    raise RuntimeError('hook exploded')\n"
    )
    _fake_distribution(site, "fake-raising", source)
    _fake_distribution(site, "fake-good", _GOOD)
    assert "fake-good" in _backend_sources()
    _backend_sources()  # a second collection does not record it twice
    failed = plugins.failed_plugins()
    assert len(failed) == 1 and "hook exploded" in failed[0].error


def test_incompatible_versions_are_recorded(site: Path) -> None:
    _fake_distribution(
        site, "fake-old", _GOOD.replace("fake-good", "fake-old"), requires="tldrf>=99"
    )
    class_too_new = _GOOD.replace("fake-good", "fake-new").replace(
        'backend_id = "fake-new"', 'backend_id = "fake-new"\n    tldr_requires = ">=99"'
    )
    _fake_distribution(site, "fake-new", class_too_new)
    sources = _backend_sources()
    assert "fake-old" not in sources and "fake-new" not in sources
    errors = {f.distribution: f.error for f in plugins.failed_plugins()}
    assert "tldrf>=99" in errors["fake-old"]
    assert ">=99" in errors["fake-new"]


def test_collision_names_both_sources() -> None:
    class Clash(ExactVectorStore):
        backend_id = "usearch"

    module = types.ModuleType("fake_clash")

    @hookimpl
    def register_vector_stores(register):  # type: ignore[no-untyped-def]
        register(Clash)

    module.register_vector_stores = register_vector_stores  # type: ignore[attr-defined]
    plugins._register_module_for_tests(module, source="fake-clash")
    with pytest.raises(PluginError) as excinfo:
        plugins.registered_vector_stores()
    message = str(excinfo.value)
    assert "'usearch'" in message and "built-in" in message and "fake-clash" in message


def test_unknown_backend_lists_available() -> None:
    with pytest.raises(UnknownBackendError) as excinfo:
        get_backend("nope")
    message = str(excinfo.value)
    assert "'nope'" in message and "usearch" in message and "exact" in message
    assert "tldrf semantic backends" in message


def test_embedders_and_rerankers_hooks_exist() -> None:
    assert isinstance(plugins.registered_embedders(), dict)
    assert isinstance(plugins.registered_rerankers(), dict)


def test_dunder_all_complete() -> None:
    import tldr.hookspecs
    import tldr.vector_store

    for module in (plugins, tldr.hookspecs, tldr.vector_store):
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and getattr(value, "__module__", module.__name__) == module.__name__
            and not isinstance(value, types.ModuleType)
        }
        assert public <= set(module.__all__), public - set(module.__all__)
