"""The errors of flow analysis, all under `TldrError`.

```
TldrError
└── FlowError                       a flow request that cannot be answered
    ├── UnsupportedLanguageError    no flow tables for the language (exit 2)
    ├── FlowInputError              the file cannot be read or is outside the project
    ├── FunctionNotFoundError       no function of that name (with did-you-mean)
    ├── AmbiguousFunctionError      several functions of that name
    └── LineOutsideFunctionError    the line is not in the function, or holds no statement
```
"""

from __future__ import annotations

from tldr._exceptions import TldrError

__all__ = [
    "AmbiguousFunctionError",
    "FlowError",
    "FlowInputError",
    "FunctionNotFoundError",
    "LineOutsideFunctionError",
    "UnsupportedLanguageError",
]


class FlowError(TldrError):
    """A cfg, dfg or slice request that cannot be answered; the message says why."""


class UnsupportedLanguageError(FlowError):
    """The language has no flow tables yet (the CLI exits with 2)."""

    exit_code = 2

    def __init__(self, analysis: str, language: str) -> None:
        super().__init__(f"{analysis} is not supported for {language} yet")
        self.language = language


class FlowInputError(FlowError):
    """The file is outside the project, not a regular text file, or too large."""


class FunctionNotFoundError(FlowError):
    """No function of the requested name; `candidates` holds close names."""

    def __init__(self, name: str, file: str, candidates: list[str]) -> None:
        where = f" in {file}" if file else ""
        hint = f"; did you mean: {', '.join(candidates)}?" if candidates else ""
        super().__init__(f"no function named {name}{where}{hint}")
        self.candidates = candidates


class AmbiguousFunctionError(FlowError):
    """Several functions share the requested name; a line picks one."""

    def __init__(self, name: str, file: str, places: list[tuple[str, int]]) -> None:
        listed = ", ".join(f"{qualified} (line {line})" for qualified, line in places)
        where = f" in {file}" if file else ""
        super().__init__(
            f"{len(places)} functions named {name}{where}: {listed}; give a line instead"
        )
        self.places = places


class LineOutsideFunctionError(FlowError):
    """The line is outside the function (or every function), or holds no statement."""
