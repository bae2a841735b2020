"""Which project file an import names, per language family.

Module names come from paths (the tree is all we read): Python dotted
paths (`__init__.py` is its package), JS/TS paths without extension, Go
and JVM packages as directories, Rust module paths under `src/`. A name
that matches no project file is external (a library): None.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict

__all__ = ["PY_FAMILY", "ModuleIndex", "module_name"]

PY_FAMILY = frozenset({"python"})
_JS = frozenset({"javascript", "typescript", "tsx"})
_JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_STRIP_SUFFIXES = (".d.ts", ".pyi")


def _stem(path: str) -> str:
    for suffix in _STRIP_SUFFIXES:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    base, dot, ext = path.rpartition(".")
    return base if dot and "/" not in ext else path


def module_name(path: str, language: str) -> str:
    """The module a file defines: `a/b/c.py` -> `a.b.c`, `a/__init__.py` -> `a`, Go: `a/b`."""
    stem = _stem(path)
    if language == "python":
        if stem.endswith("/__init__") or stem == "__init__":
            stem = stem[: -len("__init__")].rstrip("/")
        return stem.replace("/", ".")
    if language in ("go", "java", "kotlin", "scala", "csharp"):
        return posixpath.dirname(path)
    return stem


def _package_rooted(path: str, packages: set[str]) -> str:
    """`src/pkg/a.py` -> `pkg.a`: the name from the outermost package (a dir with __init__)."""
    directory = posixpath.dirname(path)
    top = directory if directory in packages else ""
    while directory in packages:
        top = directory
        directory = posixpath.dirname(directory)
    base = posixpath.dirname(top) if top else posixpath.dirname(path)
    relative = path[len(base) + 1:] if base else path
    return module_name(relative, "python")


class ModuleIndex:
    """Project files by module name, for resolving imports."""

    def __init__(self, files: list[tuple[str, str]]) -> None:
        """Index `(path, language)` pairs; positions are file indexes."""
        self.paths = [path for path, _ in files]
        self.python: dict[str, int] = {}
        self.python_rooted: dict[str, int] = {}  # names from the top package down (`src/` off)
        self.stems: dict[str, int] = {}
        self.stem_suffix: dict[str, list[int]] = defaultdict(list)
        self.dirs: dict[str, list[int]] = defaultdict(list)
        packages = {posixpath.dirname(path) for path, language in files
                     if language == "python" and path.rsplit("/", 1)[-1] == "__init__.py"}
        for index, (path, language) in enumerate(files):
            self.dirs[posixpath.dirname(path)].append(index)
            stem = _stem(path)
            self.stems.setdefault(stem, index)
            parts = stem.split("/")
            for start in range(1, len(parts)):
                self.stem_suffix["/".join(parts[start:])].append(index)
            if language == "python":
                dotted = module_name(path, language)
                if path.endswith(".pyi") and dotted in self.python:
                    continue  # the .py file wins over its stub
                self.python[dotted] = index
                rooted = _package_rooted(path, packages)
                if rooted and rooted != dotted:
                    self.python_rooted.setdefault(rooted, index)

    def python_module(self, dotted: str) -> int | None:
        """The file of a Python module (under a `src/`-like directory too); None if external."""
        found = self.python.get(dotted)
        if found is not None:
            return found
        return self.python_rooted.get(dotted)

    @staticmethod
    def absolute_python(importer_module: str, is_package: bool, module: str) -> str:
        """`..x` imported by `a.b.c` -> `a.x`; absolute names unchanged."""
        level = len(module) - len(module.lstrip("."))
        if not level:
            return module
        parts = importer_module.split(".") if importer_module else []
        if not is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
        rest = module[level:]
        return ".".join([*parts, rest] if rest else parts)

    def js_module(self, importer: str, spec: str) -> int | None:
        """The file a JS/TS specifier names (`./x`, `../y/index`, `@/z` by suffix)."""
        if spec.startswith("."):
            base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
            return self._stem_or_index(base)
        stripped = spec.lstrip("@~/")
        if "/" in stripped:
            stripped = stripped.split("/", 1)[1] if spec.startswith(("@/", "~/")) else stripped
        found = self._stem_or_index(stripped)
        if found is not None:
            return found
        candidates = self.stem_suffix.get(stripped) or self.stem_suffix.get(f"{stripped}/index")
        return candidates[0] if candidates and len(candidates) == 1 else None

    def _stem_or_index(self, base: str) -> int | None:
        for candidate in (base, _stem(base), f"{base}/index"):
            if candidate in self.stems:
                return self.stems[candidate]
        return None

    def directory_files(self, directory: str) -> list[int]:
        """The files of one directory (a Go or JVM package)."""
        return self.dirs.get(directory, [])

    def package_dir(self, name: str, separator: str = "/") -> list[int]:
        """Files of the project directory a package path ends with (`github.com/x/p/util`)."""
        parts = [p for p in name.split(separator) if p]
        for start in range(len(parts)):
            directory = "/".join(parts[start:])
            if directory in self.dirs:
                return self.dirs[directory]
        best: list[int] = []
        suffix = "/" + "/".join(parts)
        for directory, files in self.dirs.items():
            if ("/" + directory).endswith(suffix):
                if best:
                    return []  # two directories match: not ours to pick
                best = files
        return best

    def path_file(self, importer: str, target: str) -> int | None:
        """A path-like import (`#include "x.h"`, Ruby `require_relative`), relative or by suffix."""
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(importer), target))
        for candidate in (joined, target):
            found = self._stem_or_index(_stem(candidate))
            if found is not None and self.paths[found].endswith(posixpath.basename(target)):
                return found
        candidates = self.stem_suffix.get(_stem(target).lstrip("./"))
        return candidates[0] if candidates and len(candidates) == 1 else None
