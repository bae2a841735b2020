"""What a file's imports bring into scope, resolved against the project's modules.

`FileScope` indexes one file's bindings and evident types; `ImportResolver`
answers which project files and definitions an import names (aliases,
relative imports, re-exports through a package's `__init__`, wildcards,
JS default exports), for the call resolver and for `imports`/`importers`.
"""

from __future__ import annotations

from tldr.graph.symbols import Symbols
from tldr.units.bindings import ImportBinding

__all__ = ["FileScope", "ImportResolver"]

_MAX_HOPS = 4  # re-export hops followed, at most


class FileScope:
    """What one file brings into scope: bindings by local name, types by scope."""

    def __init__(self, symbols: Symbols, file_index: int) -> None:
        record = symbols.files[file_index]
        self.index = file_index
        self.record = record
        self.offset = symbols.offsets[file_index]
        self.bindings: dict[str, list[ImportBinding]] = {}
        self.wildcards: list[ImportBinding] = []
        for binding in record.facts.imports:
            if binding.local == "*":
                self.wildcards.append(binding)
            elif binding.local:
                self.bindings.setdefault(binding.local, []).append(binding)
        self.types: dict[tuple[int, str], str] = {}
        for typed in record.facts.types:
            scope = self.offset + typed.scope if typed.scope >= 0 else self.offset
            self.types.setdefault((scope, typed.var), typed.type)


class ImportResolver:
    """Imports, per file: what each binding names in the project (cached per resolver)."""

    def __init__(self, symbols: Symbols) -> None:
        """Answer against `symbols` (the whole project's definitions)."""
        self.symbols = symbols
        self._scopes: dict[int, FileScope] = {}
        self._module_cache: dict[tuple[int, str, str], list[int]] = {}

    def _scope(self, file_index: int) -> FileScope:
        scope = self._scopes.get(file_index)
        if scope is None:
            scope = self._scopes[file_index] = FileScope(self.symbols, file_index)
        return scope

    def binding_files(self, file_index: int, binding: ImportBinding) -> list[int]:
        """The project files an import binding of a file names (its module's file)."""
        scope = self._scope(file_index)
        files = self._binding_module(scope, binding.module, binding.symbol)
        if not files and binding.symbol:
            files = self._binding_module(scope, binding.module)
        return list(files)

    def _module_receiver(self, scope: FileScope, receiver: str) -> list[int]:
        """Files a receiver names through an import: `osp`, `a.b`, `pkg`, `ns`."""
        language = scope.record.language
        bindings = scope.bindings
        if receiver in bindings:
            found: list[int] = []
            for binding in bindings[receiver]:
                if binding.symbol and language != "python":
                    continue
                files = self._binding_module(scope, binding.module, binding.symbol)
                found.extend(files)
            return found
        if language == "python" and "." in receiver:
            parts = receiver.split(".")
            for cut in range(len(parts) - 1, 0, -1):
                local = ".".join(parts[:cut])
                for binding in bindings.get(local, ()):
                    rest = ".".join(parts[cut:])
                    base = f"{binding.module}.{binding.symbol}" if binding.symbol else \
                        binding.module
                    files = self._binding_module(scope, f"{base}.{rest}")
                    if files:
                        return files
        if language == "erlang" and receiver.isidentifier():  # `m:f()` calls module m
            return self._binding_module(scope, receiver)
        return []

    # -- imports ------------------------------------------------------------

    def _binding_module(self, scope: FileScope, module: str,
                        symbol: str = "") -> list[int]:
        """The project files an import's module (plus symbol, for Python) names."""
        key = (scope.index, module, symbol)
        cached = self._module_cache.get(key)
        if cached is not None:
            return cached
        modules = self.symbols.modules
        language = scope.record.language
        files: list[int] = []
        if language == "python":
            is_package = scope.record.path.endswith("__init__.py")
            dotted = modules.absolute_python(scope.record.module, is_package, module)
            if symbol and symbol != "*":
                dotted = f"{dotted}.{symbol}" if dotted else symbol
            found = modules.python_module(dotted)
            files = [found] if found is not None else []
        elif language in ("javascript", "typescript", "tsx"):
            found = modules.js_module(scope.record.path, module)
            files = [found] if found is not None else []
        elif language == "go":
            files = modules.package_dir(module)
        elif language in ("java", "kotlin", "scala", "csharp"):
            files = modules.package_dir(module, ".")
        elif language == "rust":
            path = module.replace("::", "/")
            for prefix in ("crate/", "self/", "super/"):
                path = path.removeprefix(prefix)
            found = modules.path_file(scope.record.path, path) if path else None
            files = [found] if found is not None else []
        elif language == "erlang":  # a module is its file: `lists` is lists.erl
            target = module if module.endswith((".hrl", ".erl")) else module + ".erl"
            found = modules.path_file(scope.record.path, target)
            files = [found] if found is not None else []
        elif language == "clojure":  # `shop.my-db` is shop/my_db.clj on the classpath
            found = modules.path_file(scope.record.path,
                                      module.replace(".", "/").replace("-", "_") + ".clj")
            files = [found] if found is not None else []
        elif language == "dart" and module.startswith(("package:", "dart:")):
            # `package:name/x.dart` is this package's lib/x.dart (or another package's)
            path = module.partition(":")[2].partition("/")[2]
            found = modules.path_file(scope.record.path, "lib/" + path) if path else None
            files = [found] if found is not None else []
        else:
            found = modules.path_file(scope.record.path, module)
            files = [found] if found is not None else []
        self._module_cache[key] = files
        return files

    def _binding_defs(self, scope: FileScope, binding: ImportBinding,
                      hops: int = 0) -> list[int]:
        """The definitions a named import binds (`from m import f`, `import {f}`)."""
        language = scope.record.language
        if not binding.symbol:
            return []
        if language == "python":
            submodule = self._binding_module(scope, binding.module, binding.symbol)
            if submodule:
                return []  # `from pkg import sub` binds a module
            files = self._binding_module(scope, binding.module)
            return [gid for f in files for gid in self._exported(f, binding.symbol, hops + 1)]
        files = self._binding_module(scope, binding.module)
        symbol = binding.symbol
        found: list[int] = []
        for f in files:
            if symbol == "default":
                found.extend(self._js_default(f))
            else:
                found.extend(self._exported(f, symbol, hops + 1))
        return found

    def _exported(self, file_index: int, name: str, hops: int) -> list[int]:
        """A module's top-level `name`, following re-exports (`from .x import name`)."""
        found = self.symbols.top_level(file_index, name)
        if found or hops >= _MAX_HOPS:
            return list(found)
        scope = self._scope(file_index)
        for binding in scope.bindings.get(name, ()):
            found = self._binding_defs(scope, binding, hops + 1)
            if found:
                return found
        for binding in scope.wildcards:
            files = self._binding_module(scope, binding.module)
            for f in files:
                if f != file_index:
                    found = self._exported(f, name, hops + 1)
                    if found:
                        return found
        return []

    def _js_default(self, file_index: int) -> list[int]:
        """A JS/TS module's default export: the one top-level definition when it has one."""
        module = self.symbols.offsets[file_index]
        children = self.symbols.children.get(module, {})
        tops = [gid for group in children.values() for gid in group]
        return tops if len(tops) == 1 else []

    # -- classes ------------------------------------------------------------
