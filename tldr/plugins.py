"""The plugin manager: built-in and external vector stores, embedders, rerankers.

Built-in plugin modules (`BUILTIN_PLUGIN_MODULES`) always load. External
plugins load from the entry-point group `tldr`; `TLDR_LOAD_PLUGINS` picks
which: unset = all, `""` = none, `a,b` = only those distributions. Under a test
run that sets `sys._called_from_test` (as llm does), entry points load only
when `TLDR_LOAD_PLUGINS` is set explicitly. A broken external plugin is
recorded in `failed_plugins()` and never stops tldrf; a built-in failing is a
bug and raises. Two registrations of one id raise `PluginError` naming both.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import logging
import sys
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pluggy

from tldr import hookspecs
from tldr._exceptions import PluginError
from tldr._version import __version__

__all__ = [
    "BUILTIN_PLUGIN_MODULES",
    "BUILTIN_SOURCE",
    "ENTRY_POINT_GROUP",
    "FailedPlugin",
    "PluginInfo",
    "Registration",
    "failed_plugins",
    "get_plugins",
    "load_plugins",
    "pm",
    "registered_embedders",
    "registered_rerankers",
    "registered_resolvers",
    "registered_vector_stores",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "tldr"
BUILTIN_SOURCE = "built-in"
BUILTIN_PLUGIN_MODULES: tuple[str, ...] = (
    "tldr.vector_store.builtin",
    "tldr.semantic.builtin_plugins",
    "tldr.graph.builtin_plugins",
)

pm = pluggy.PluginManager("tldr")
pm.add_hookspecs(hookspecs)


@dataclass(frozen=True)
class FailedPlugin:
    """An external plugin that could not be loaded or whose hook failed."""

    distribution: str
    entry_point: str
    error: str


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin; `distribution` and `version` are None for built-ins."""

    name: str
    hooks: tuple[str, ...]
    version: str | None
    distribution: str | None


@dataclass(frozen=True)
class Registration:
    """One registered class and where it came from (`built-in` or a distribution)."""

    obj: type[Any]
    source: str


_lock = threading.RLock()
_loaded = False
_failed: list[FailedPlugin] = []
_sources: dict[str, tuple[str, str, str | None]] = {}  # plugin name -> (source, ep, version)
_registry_cache: dict[str, dict[str, Registration]] = {}


def load_plugins() -> None:
    """Load built-in and external plugins once; later calls return at once."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for module_name in BUILTIN_PLUGIN_MODULES:
            module = importlib.import_module(module_name)  # a missing built-in is a bug
            pm.register(module, name=module_name)
            _sources[module_name] = (BUILTIN_SOURCE, module_name, None)
        wanted = _wanted_distributions()
        if wanted is None or wanted:
            _load_entry_points(wanted)
        _loaded = True


def _wanted_distributions() -> set[str] | None:
    """Distributions to load: None = all, empty = none (see module docstring)."""
    from tldr.settings import setting

    raw = setting("TLDR_LOAD_PLUGINS")
    if raw is None:
        return set() if getattr(sys, "_called_from_test", False) else None
    return {_normalize(name) for name in raw.split(",") if name.strip()}


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _load_entry_points(wanted: set[str] | None) -> None:
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else ep.value
        if wanted is not None and _normalize(dist_name) not in wanted:
            continue
        try:
            if dist is not None:
                _check_declared_requirement(dist)
            module = ep.load()
            name = f"{dist_name}:{ep.name}"
            pm.register(module, name=name)
        except Exception as exc:
            logger.warning("plugin %s (%s) failed to load: %s", dist_name, ep.name, exc)
            _failed.append(FailedPlugin(dist_name, ep.name, f"{type(exc).__name__}: {exc}"))
            continue
        _sources[name] = (dist_name, ep.name, dist.version if dist is not None else None)


def _check_declared_requirement(dist: md.Distribution) -> None:
    """Refuse a distribution whose `Requires-Dist: tldrf...` excludes this version."""
    from packaging.requirements import Requirement

    for line in dist.requires or ():
        req = Requirement(line)
        if _normalize(req.name) == "tldrf" and req.marker is None:
            _check_specifier(str(req.specifier), f"distribution {dist.metadata['Name']}")


def _check_specifier(spec: str, what: str) -> None:
    from packaging.specifiers import SpecifierSet

    if spec and not SpecifierSet(spec).contains(__version__, prereleases=True):
        raise PluginError(f"{what} requires tldrf{spec}, but this is tldrf {__version__}")


def get_plugins() -> list[PluginInfo]:
    """Return every loaded plugin, built-ins first, with the hooks it implements."""
    load_plugins()
    infos = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or repr(plugin)
        source, _ep, version = _sources.get(name, (name, name, None))
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        dist = None if source == BUILTIN_SOURCE else source
        infos.append(PluginInfo(name=name, hooks=hooks, version=version, distribution=dist))
    return sorted(infos, key=lambda info: (info.distribution is not None, info.name))


def failed_plugins() -> list[FailedPlugin]:
    """Return the external plugins that failed to load or register, in order."""
    load_plugins()
    return list(_failed)


def registered_vector_stores() -> dict[str, Registration]:
    """Return vector store classes keyed by `backend_id`.

    Raises:
        PluginError: Two plugins registered one `backend_id`.
    """
    return _collect("register_vector_stores", "backend_id")


def registered_embedders() -> dict[str, Registration]:
    """Return embedder classes keyed by `id`."""
    return _collect("register_embedders", "id")


def registered_rerankers() -> dict[str, Registration]:
    """Return reranker classes keyed by `id`."""
    return _collect("register_rerankers", "id")


def registered_resolvers() -> dict[str, Registration]:
    """Return code-graph call resolver classes keyed by `id`."""
    return _collect("register_resolvers", "id")


def _collect(hook_name: str, id_attr: str) -> dict[str, Registration]:
    """Call each implementation of one hook separately, so sources are known."""
    load_plugins()
    with _lock:
        if hook_name in _registry_cache:
            return dict(_registry_cache[hook_name])
        found: dict[str, Registration] = {}
        caller = getattr(pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order: built-ins first
            if impl.hookwrapper or impl.wrapper:
                continue
            source, ep_name, _version = _sources.get(
                impl.plugin_name, (impl.plugin_name,) * 2 + (None,)
            )
            pending: list[Registration] = []

            def register(
                obj: type[Any], _pending: list[Registration] = pending, _s: str = source
            ) -> None:
                _pending.append(Registration(obj=obj, source=_s))

            try:
                impl.function(**{arg: register for arg in impl.argnames})
                for reg in pending:
                    _check_specifier(getattr(reg.obj, "tldr_requires", "") or "", f"{reg.obj!r}")
            except Exception as exc:
                if source == BUILTIN_SOURCE:
                    raise
                failure = FailedPlugin(source, ep_name, f"{type(exc).__name__}: {exc}")
                if failure not in _failed:
                    logger.warning(
                        "plugin %s (%s) failed in %s: %s", source, ep_name, hook_name, exc
                    )
                    _failed.append(failure)
                continue
            for reg in pending:
                _add(found, reg, id_attr, hook_name)
        _registry_cache[hook_name] = found
        return dict(found)


def _add(found: dict[str, Registration], reg: Registration, id_attr: str, hook: str) -> None:
    key = getattr(reg.obj, id_attr, None)
    if not isinstance(key, str) or not key:
        raise PluginError(
            f"{reg.source} registered {reg.obj!r} in {hook} without a string {id_attr}"
        )
    if key in found:
        raise PluginError(
            f"{id_attr} {key!r} is registered twice: by {found[key].source} "
            f"({found[key].obj.__qualname__}) and by {reg.source} ({reg.obj.__qualname__}); "
            "uninstall one, or restrict plugins with TLDR_LOAD_PLUGINS"
        )
    found[key] = reg


def _register_module_for_tests(
    module: ModuleType, *, source: str, entry_point: str = "test"
) -> None:
    """Register a plugin object as if it came from distribution `source` (tests only)."""
    load_plugins()
    with _lock:
        name = f"{source}:{entry_point}"
        pm.register(module, name=name)
        _sources[name] = (source, entry_point, None)
        _registry_cache.clear()


def _reset() -> None:
    """Forget every loaded plugin so the next call loads afresh (tests only)."""
    global _loaded
    with _lock:
        for plugin in list(pm.get_plugins()):
            pm.unregister(plugin)
        _failed.clear()
        _sources.clear()
        _registry_cache.clear()
        _loaded = False
