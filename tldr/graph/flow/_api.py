"""The public entry points: cfg, dfg and slices from source bytes or a project file."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tldr.graph.flow._build import build_steps
from tldr.graph.flow._dataflow import FlowFacts, analyse
from tldr.graph.flow._errors import (
    FlowError,
    FlowInputError,
    LineOutsideFunctionError,
    UnsupportedLanguageError,
)
from tldr.graph.flow._locate import Located, locate
from tldr.graph.flow._model import Cfg, Dfg, FunctionRef, SliceResult
from tldr.graph.flow._shape import basic_blocks, def_use_chains, slice_steps, steps_on_line
from tldr.graph.flow._steps import EXIT, StepGraph
from tldr.graph.flow._tables import TABLES
from tldr.units.detect import detect_language
from tldr.units.parsing import parse
from tldr.units.source import DEFAULT_MAX_FILE_BYTES, SkippedFile, escape_path, load_source

__all__ = [
    "Direction",
    "cfg",
    "cfg_file",
    "dfg",
    "dfg_file",
    "program_slice",
    "read_project_file",
    "slice_file",
]

Direction = Literal["backward", "forward"]
_DIRECTIONS = ("backward", "forward")
_MAX_CODE_CHARS = 200


@dataclass(frozen=True)
class _Prepared:
    source: bytes
    located: Located
    graph: StepGraph
    ref: FunctionRef


def _prepare(
    analysis: str, source: bytes, language: str, function: str | int, path: str
) -> _Prepared:
    tables = TABLES.get(language)
    if tables is None:
        raise UnsupportedLanguageError(analysis, language)
    try:
        source, tree = parse(source, language)
    except Exception as error:  # a grammar that fails to load or parse
        raise FlowError(f"{path or 'source'}: cannot parse as {language}: {error}") from error
    located = locate(tree.root_node, source, language, function, path)
    if located.body is None:
        raise FlowError(f"{located.qualified_name} has no body to analyse (a declaration)")
    try:
        graph = build_steps(located.node, located.body, located.parameters, tables)
    except RecursionError:  # statements nested hundreds deep (generated code)
        raise FlowError(
            f"{located.qualified_name} nests statements too deeply to analyse"
        ) from None
    ref = FunctionRef(
        name=located.name,
        qualified_name=located.qualified_name,
        file=path,
        language=language,
        line=located.line,
        end_line=located.end_line,
    )
    return _Prepared(source, located, graph, ref)


def cfg(source: bytes, language: str, function: str | int, *, path: str = "") -> Cfg:
    """The control-flow graph of one function.

    Args:
        source: The file's bytes.
        language: A tree-sitter language name (`FLOW_LANGUAGES`).
        function: A name, a qualified name (`Class.method`) or a line inside it.
        path: The file's project-relative path, for messages and the result.

    Raises:
        UnsupportedLanguageError: No flow tables for `language` (exit code 2).
        FunctionNotFoundError: No such function (the message lists close names).
        AmbiguousFunctionError: Several functions of that name.
        LineOutsideFunctionError: `function` is a line outside every function.
    """
    prepared = _prepare("cfg", source, language, function, path)
    blocks, edges = basic_blocks(prepared.graph)
    return Cfg(
        function=prepared.ref, blocks=blocks, edges=edges, entry=blocks[0].id, exit=blocks[-1].id
    )


def dfg(source: bytes, language: str, function: str | int, *, path: str = "") -> Dfg:
    """The def-use chains of one function (see `cfg` for the arguments and errors)."""
    prepared = _prepare("dfg", source, language, function, path)
    facts = analyse(prepared.graph)
    return Dfg(function=prepared.ref, chains=def_use_chains(prepared.graph, facts))


def _code(source: bytes, lines: list[int]) -> list[str]:
    text = source.split(b"\n")
    out: list[str] = []
    for line in lines:
        raw = text[line - 1] if 0 < line <= len(text) else b""
        decoded = raw.decode("utf-8", "replace").rstrip()
        out.append(decoded[:_MAX_CODE_CHARS])
    return out


def _criterion(prepared: _Prepared, line: int) -> list[int]:
    ref = prepared.ref
    if not ref.line <= line <= ref.end_line:
        raise LineOutsideFunctionError(
            f"line {line} is outside {ref.qualified_name} (lines {ref.line}-{ref.end_line})"
        )
    steps = steps_on_line(prepared.graph, line)
    if not steps:
        raise LineOutsideFunctionError(
            f"line {line} of {ref.qualified_name} holds no statement (blank, comment or brace)"
        )
    return steps


def _check_variable(prepared: _Prepared, var: str) -> None:
    names = {a.name for step in prepared.graph.steps for a in step.accesses}
    if var in names:
        return
    close = difflib.get_close_matches(var, sorted(names), n=3, cutoff=0.6)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise FlowError(f"no variable named {var} in {prepared.ref.qualified_name}{hint}")


def program_slice(
    source: bytes,
    language: str,
    function: str | int,
    line: int,
    *,
    direction: Direction = "backward",
    var: str | None = None,
    path: str = "",
) -> SliceResult:
    """The lines of a function that may affect (backward) or be affected by (forward) a line.

    Args:
        source: The file's bytes.
        language: A tree-sitter language name (`FLOW_LANGUAGES`).
        function: A name, a qualified name or a line inside the function.
        line: The slicing criterion, a line of the function holding a statement.
        direction: "backward" (what affects the line) or "forward" (what it affects).
        var: Follow only this variable's value at the line (then onwards, transitively).
        path: The file's project-relative path, for messages and the result.

    Raises:
        FlowError: For a bad direction or a `var` the function never names;
            and the errors of `cfg`, plus `LineOutsideFunctionError` when
            `line` is outside the function.
    """
    if direction not in _DIRECTIONS:
        raise FlowError(f"direction must be backward or forward, not {direction!r}")
    prepared = _prepare("slice", source, language, function, path)
    criterion = _criterion(prepared, line)
    if var:
        _check_variable(prepared, var)
    facts: FlowFacts = analyse(prepared.graph)
    steps = slice_steps(prepared.graph, facts, criterion, direction, var or None)
    lines = {line}
    for step in steps:
        if step == EXIT:
            continue
        found = prepared.graph.steps[step]
        lines.update(range(found.start, found.end + 1))
    ordered = sorted(lines)
    return SliceResult(
        function=prepared.ref,
        line=line,
        direction=direction,
        var=var or None,
        lines=ordered,
        code=_code(prepared.source, ordered),
    )


# -- project files ------------------------------------------------------------


def read_project_file(
    root: str | os.PathLike[str], path: str | os.PathLike[str], *, max_file_bytes: int
) -> tuple[bytes, str, str]:
    """(bytes, language, project-relative path) of a file inside `root`, read safely.

    Raises:
        FlowInputError: Outside the project, missing, not a regular text file, too large.
        UnsupportedLanguageError: A language without flow tables.
    """
    try:
        base = Path(root).resolve(strict=True)
    except OSError as error:
        raise FlowInputError(
            f"{escape_path(os.fspath(root))}: no such project directory"
        ) from error
    candidate = Path(path)
    shown = escape_path(os.fspath(path))
    if not candidate.is_absolute():
        candidate = base / candidate
    try:
        resolved = candidate.resolve()  # symlinks followed: where the bytes really are
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise FlowInputError(f"{shown}: cannot analyse (symlink loop)") from error
    if resolved != base and base not in resolved.parents:
        raise FlowInputError(f"{shown} is outside the project")
    if not resolved.exists():
        raise FlowInputError(f"{shown}: no such file")
    relative = escape_path(resolved.relative_to(base).as_posix())
    try:
        loaded = load_source(resolved, max_file_bytes=max_file_bytes)
    except SkippedFile as skipped:
        reason = skipped.reason.replace("_", " ")
        if skipped.reason == "too_large":
            reason += f", over {max_file_bytes} bytes"
        raise FlowInputError(f"{relative}: cannot analyse ({reason})") from None
    language = detect_language(relative, loaded.data[:8192])
    if language is None or language == "text":
        raise FlowInputError(f"{relative}: not a source file of a known language")
    return loaded.data, language, relative


def cfg_file(
    root: str | os.PathLike[str],
    path: str | os.PathLike[str],
    function: str | int,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Cfg:
    """`cfg` of a function in a project file (`path` relative to `root`, or inside it)."""
    data, language, relative = read_project_file(root, path, max_file_bytes=max_file_bytes)
    return cfg(data, language, function, path=relative)


def dfg_file(
    root: str | os.PathLike[str],
    path: str | os.PathLike[str],
    function: str | int,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Dfg:
    """`dfg` of a function in a project file."""
    data, language, relative = read_project_file(root, path, max_file_bytes=max_file_bytes)
    return dfg(data, language, function, path=relative)


def slice_file(
    root: str | os.PathLike[str],
    path: str | os.PathLike[str],
    function: str | int,
    line: int,
    *,
    direction: Direction = "backward",
    var: str | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> SliceResult:
    """`program_slice` of a function in a project file."""
    data, language, relative = read_project_file(root, path, max_file_bytes=max_file_bytes)
    return program_slice(
        data, language, function, line, direction=direction, var=var, path=relative
    )
