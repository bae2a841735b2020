"""The public surface: `tldr.__all__` is complete and every module declares `__all__`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import tldr
from tldr import _exceptions


def test_top_level_exports_every_exception_and_the_version() -> None:
    errors = {
        name
        for name, value in vars(_exceptions).items()
        if inspect.isclass(value) and issubclass(value, _exceptions.TldrError)
    }
    assert set(tldr.__all__) == errors | {"__version__"}
    for name in tldr.__all__:
        assert hasattr(tldr, name)


def test_every_module_declares_all() -> None:
    missing = []
    for info in pkgutil.walk_packages(tldr.__path__, prefix="tldr."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        if not hasattr(module, "__all__"):
            missing.append(info.name)
        else:
            for name in module.__all__:
                assert hasattr(module, name), f"{info.name}.__all__ names missing {name}"
    assert missing == []
