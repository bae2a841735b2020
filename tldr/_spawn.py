"""Starting tldrf's own helper processes (daemon, build worker, parse workers) safely."""

from __future__ import annotations

import sys

__all__ = ["isolated_python"]


def isolated_python(module: str, *args: str) -> list[str]:
    """The command running `python -m module args` with no project code importable.

    `-I` keeps the working directory, `PYTHON*` variables and the user site
    off `sys.path`: spawned from inside a project, plain `-m` would import a
    `filelock.py` (or a `tldr/` package) planted at its root. The
    site-packages `.pth` files of an editable install still apply.
    """
    return [sys.executable, "-I", "-m", module, *args]
