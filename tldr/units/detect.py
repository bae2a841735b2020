"""Which language a file is: by name, by the names beside it, by content.

`detect_language` is the one rule. The walk calls it with a path and the
names in the same directory (it reads nothing); `extract_units` calls it
again with the file's bytes for the two guesses only content can settle:
a `.h` header that turns out to be C++, and a file without a known
extension whose shebang names its interpreter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set
from types import MappingProxyType

__all__ = [
    "CONTENT_DECIDED",
    "EXTENSIONS",
    "FILE_NAMES",
    "detect_language",
    "directory_extensions",
    "language_for_path",
]

EXTENSIONS: Mapping[str, str] = MappingProxyType(
    {
        ".py": "python", ".pyi": "python", ".pyw": "python",
        ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
        ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
        ".go": "go", ".rs": "rust", ".java": "java",
        ".c": "c", ".h": "c", ".inc": "c",
        ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hpp": "cpp", ".hh": "cpp",
        ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp", ".inl": "cpp", ".tcc": "cpp", ".cu": "cpp",
        ".cuh": "cpp",
        ".cs": "csharp", ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby", ".ru": "ruby",
        ".php": "php", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".sc": "scala",
        ".swift": "swift", ".lua": "lua", ".ex": "elixir", ".exs": "elixir",
        ".sh": "bash", ".bash": "bash", ".zsh": "bash", ".ksh": "bash", ".bats": "bash",
        ".hs": "haskell", ".lhs": "haskell", ".zig": "zig", ".zon": "zig",
        ".ml": "ocaml", ".mli": "ocaml", ".dart": "dart",
        ".erl": "erlang", ".hrl": "erlang",
        ".clj": "clojure", ".cljs": "clojure", ".cljc": "clojure", ".edn": "clojure",
        ".jl": "julia", ".r": "r", ".pl": "perl", ".pm": "perl", ".t": "perl",
        ".m": "objc", ".mm": "objc", ".sql": "sql", ".proto": "proto",
        ".tf": "hcl", ".tfvars": "hcl", ".hcl": "hcl",
        ".md": "markdown", ".markdown": "markdown", ".mdx": "markdown",
        ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json",
        ".jsonc": "json", ".ini": "ini", ".cfg": "ini", ".conf": "ini",
        ".dockerfile": "dockerfile", ".mk": "make", ".mak": "make", ".cmake": "cmake",
    }
)

FILE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "dockerfile": "dockerfile", "containerfile": "dockerfile",
        "makefile": "make", "gnumakefile": "make",
        "cmakelists.txt": "cmake",
        "gemfile": "ruby", "rakefile": "ruby", "podfile": "ruby", "vagrantfile": "ruby",
        "brewfile": "ruby", "fastfile": "ruby",
        "build": "text", "workspace": "text",
        ".bashrc": "bash", ".bash_profile": "bash", ".profile": "bash", ".zshrc": "bash",
        "setup.cfg": "ini", "tox.ini": "ini", ".editorconfig": "ini",
    }
)

# Guesses from a name that the file's content may overturn (see module doc).
CONTENT_DECIDED = frozenset({"c", "text"})

_BINARY_EXTENSIONS = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".icns", ".webp", ".tif", ".tiff",
        ".psd", ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar",
        ".jar", ".war", ".whl", ".egg", ".so", ".dylib", ".dll", ".exe", ".o", ".a", ".lib",
        ".obj", ".class", ".pyc", ".pyo", ".wasm", ".bin", ".dat", ".db", ".sqlite",
        ".sqlite3", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".wav",
        ".ogg", ".flac", ".avi", ".mov", ".mkv", ".webm", ".npy", ".npz", ".pkl", ".pickle",
        ".pt", ".pth", ".onnx", ".safetensors", ".h5", ".parquet", ".arrow", ".xlsx",
        ".xls", ".docx", ".pptx", ".keystore", ".jks", ".p12", ".der", ".icc", ".ds_store",
    }
)
# Generated files that only add noise to a search.
_GENERATED_NAMES = frozenset(
    {
        "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "cargo.lock", "poetry.lock",
        "pipfile.lock", "composer.lock", "gemfile.lock", "go.sum", "uv.lock", "bun.lockb",
        "flake.lock", "mix.lock", "podfile.lock", "package.resolved", ".ds_store",
        # Tool lists and legal boilerplate: what a search for code never wants.
        ".gitignore", ".tldrignore", ".gitattributes", ".gitmodules", ".gitkeep", ".keep",
        ".dockerignore", ".npmignore", ".prettierignore", ".eslintignore", ".hgignore",
        "license", "license.txt", "license.md", "licence", "copying", "copying.txt",
        "notice", "notice.txt", "license-mit", "license-apache", "unlicense",
    }
)
_GENERATED_SUFFIXES = (
    ".min.js", ".min.css", ".js.map", ".css.map", ".map", ".lock", ".svg", ".log",
    # Editor swap and backup files, patch leftovers.
    "~", ".swp", ".swo", ".swx", ".bak", ".orig", ".rej", ".tmp",
)
# Included files that C and C++ share (`.inc` also in old PHP: `<?php` decides).
_HEADERS = frozenset({".h", ".inc"})
_CPP_SOURCES = frozenset({".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".ipp"})
_CPP_MARKERS = re.compile(
    rb"^\s*(?:template\s*<|namespace\s+[\w:]*\s*\{|class\s+\w+[^;(]*\{|struct\s+\w+\s*:[^:]|"
    rb"(?:public|private|protected)\s*:|using\s+namespace\b|#include\s*<\w+>\s*$)"
    rb"|\bstd::|\bconstexpr\b|\bnullptr\b|\b\w+::~?\w+\s*\(",
    re.MULTILINE,
)
_OBJC_MARKERS = re.compile(rb"^\s*(?:@(?:interface|protocol|implementation)\b|#import\b)", re.M)
_INTERPRETERS: Mapping[str, str] = MappingProxyType(
    {
        "python": "python", "pypy": "python", "sh": "bash", "bash": "bash", "dash": "bash",
        "zsh": "bash", "ksh": "bash", "ash": "bash", "bats": "bash", "node": "javascript",
        "nodejs": "javascript", "deno": "typescript", "bun": "javascript", "ts-node": "typescript",
        "ruby": "ruby", "perl": "perl", "php": "php", "lua": "lua", "luajit": "lua",
        "rscript": "r", "julia": "julia", "elixir": "elixir", "escript": "erlang",
        "runhaskell": "haskell", "runghc": "haskell", "stack": "haskell", "swift": "swift",
        "kotlin": "kotlin", "scala": "scala", "make": "make", "ocaml": "ocaml",
    }
)
_HEAD_BYTES = 8192


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _shebang_language(head: bytes) -> str | None:
    if not head.startswith(b"#!"):
        return None
    words = head[2 : head.find(b"\n") if b"\n" in head else 200].decode("utf-8", "replace").split()
    if words and words[0].rsplit("/", 1)[-1] == "env":
        words = [word for word in words[1:] if not word.startswith("-") and "=" not in word]
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1].lower()
    program = re.sub(r"[\d.]+$", "", program)  # python3.12 -> python
    return _INTERPRETERS.get(program)


def directory_extensions(names: Iterable[str]) -> frozenset[str]:
    """The lower-case extensions of the names in one directory.

    What `detect_language` needs to know of a header's neighbours; a walk
    computes it once per directory, so a directory of n headers costs O(n),
    not O(n^2).
    """
    return frozenset(_extension(name.lower()) for name in names)


def detect_language(
    path: str, head: bytes | None = None, *, neighbour_extensions: Set[str] = frozenset()
) -> str | None:
    """Return the language a file is indexed as, or None to leave it out.

    Args:
        path: The file's path or name.
        head: The file's first bytes when known; decides a `.h` header (C or
            C++) and a file without a known extension (shebang, `<?php`).
        neighbour_extensions: `directory_extensions` of the file's
            directory; a `.h` among C++ sources and no `.c` file is C++.

    Returns:
        A name from `SUPPORTED_LANGUAGES`; "text" for any other text file
        (split into line windows); None for binary, minified and generated
        files, which are not worth indexing.
    """
    name = path.rsplit("/", 1)[-1].lower()
    if (
        name in _GENERATED_NAMES
        or name.endswith(_GENERATED_SUFFIXES)
        or name.startswith(".#")
        or (name.startswith("#") and name.endswith("#"))
    ):
        return None
    extension = _extension(name)
    if extension in _BINARY_EXTENSIONS:
        return None
    language = FILE_NAMES.get(name) or EXTENSIONS.get(extension)
    if language is None and name.startswith(("dockerfile.", "makefile.")):
        language = FILE_NAMES[name.split(".", 1)[0]]
    if extension in _HEADERS:
        if head is not None and head.startswith(b"<?php"):
            return "php"
        if head is not None and _OBJC_MARKERS.search(head[:_HEAD_BYTES]):
            return "objc"
        if head is not None and _CPP_MARKERS.search(head[:_HEAD_BYTES]):
            return "cpp"
        cpp_beside = not _CPP_SOURCES.isdisjoint(neighbour_extensions)
        return "cpp" if cpp_beside and ".c" not in neighbour_extensions else "c"
    if language is not None:
        return language
    if head is not None:
        if head.startswith(b"<?php"):
            return "php"
        return _shebang_language(head) or "text"
    return "text"


def language_for_path(path: str) -> str | None:
    """The language a path's name alone says (`detect_language` without content)."""
    return detect_language(path)
