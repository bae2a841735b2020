"""What every `tldrf` command shares.

The parser class, the project option, the search options derived from
`SearchRequest`, colour and install hints.

Standard library and `tldr.request` only: on the thin client's path.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias

from tldr._exceptions import ConfigError

# Where a command group adds its commands (`add_subparsers()`).
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

if TYPE_CHECKING:
    from tldr.paths import IndexPaths

__all__ = [
    "Commands",
    "Formatter",
    "Parser",
    "RawFormatter",
    "add_location_arguments",
    "add_location_options",
    "add_project_argument",
    "add_request_arguments",
    "command_group",
    "index_paths",
    "note",
    "project_of",
    "request_from_args",
    "resolve_path_prefix",
    "use_color",
    "verbosity",
    "walk_parsers",
]


def command_group(
    commands: Commands,
    name: str,
    *,
    help: str,
    description: str,
    formatter_class: type[argparse.HelpFormatter] | None = None,
) -> Commands:
    """Add a group such as `tldrf daemon COMMAND`; returns where its commands go.

    Run without a subcommand, the group prints its help and exits 2.
    """
    group = commands.add_parser(
        name, help=help, description=description,
        formatter_class=formatter_class or RawFormatter,
    )

    def show_help(args: argparse.Namespace) -> int:
        group.print_help()
        return 2

    group.set_defaults(handler=show_help)
    return group.add_subparsers(title="commands", metavar="COMMAND")


_COLUMNS: list[int] = []  # computed once: every argument makes argparse build a formatter


def _columns() -> int:
    """`shutil.get_terminal_size().columns`, without importing shutil (~4 ms)."""
    if not _COLUMNS:
        _COLUMNS.append(_measure_columns())
    return _COLUMNS[0]


def _measure_columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class Formatter(argparse.HelpFormatter):
    """argparse's formatter; its own __init__ imports shutil for the width."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class RawFormatter(Formatter, argparse.RawDescriptionHelpFormatter):
    """`argparse.RawDescriptionHelpFormatter`, without the shutil import."""


_INVALID_CHOICE = r"invalid choice: '([^']*)' \(choose from (.*)\)"  # compiled on error only


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose "invalid choice" error suggests the closest word."""

    def error(self, message: str) -> Any:  # argparse's signature returns NoReturn
        """Print usage and `message` (with a suggestion for a mistyped word); exit 2."""
        match = re.search(_INVALID_CHOICE, message)
        if match:
            from tldr.request import did_you_mean

            choices = re.findall(r"'([^']*)'", match.group(2))
            message += did_you_mean(match.group(1), choices)
        super().error(message)


def walk_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                 ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the tree with its command path, parents first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk_parsers(child, (*path, name))


# -- the project ------------------------------------------------------------------


def add_project_argument(parser: argparse.ArgumentParser, *, positional: bool = False) -> None:
    """`-p/--project PATH`, the one way every command names the project.

    `--path` (and, with `positional`, a trailing PATH) are kept as hidden
    aliases: earlier spellings of the same thing.
    """
    parser.add_argument("-p", "--project", metavar="PATH",
                        help="project directory; its root (.git or .tldr) is used (default: .)")
    parser.add_argument("--path", dest="project_path", help=argparse.SUPPRESS)
    if positional:
        parser.add_argument("project_positional", nargs="?", help=argparse.SUPPRESS)


def project_of(args: argparse.Namespace) -> str:
    """The project the command names (default "."), however it was spelled."""
    given = [value for value in (getattr(args, "project", None),
                                 getattr(args, "project_path", None),
                                 getattr(args, "project_positional", None)) if value]
    if len(set(given)) > 1:
        raise ConfigError(f"the project is named twice ({' and '.join(given)}); give it once "
                          "with --project")
    return given[0] if given else "."


# -- the search request -------------------------------------------------------------

# How the CLI spells some request fields; every other field is `--name-with-dashes`.
_FLAGS = {"k": ("-k",)}
_METAVARS = {"k": "N", "path_prefix": "PATH"}
_HELP = {
    "path_prefix": "only files under this directory or file: relative to the current "
                   "directory, absolute, or project-relative",
}


def add_request_arguments(parser: argparse.ArgumentParser, request_type: Any = None) -> None:
    """One argument per `SearchRequest` field: its type, default, choices and help."""
    from tldr.request import SearchRequest, search_fields

    for field in search_fields(request_type or SearchRequest):
        help_text = _HELP.get(field.name, field.description)
        if field.required:
            parser.add_argument(field.name, help=help_text)
            continue
        flags = _FLAGS.get(field.name, (f"--{field.name.replace('_', '-')}",))
        if field.type is bool:
            parser.add_argument(*flags, dest=field.name, action="store_true", help=help_text)
            continue
        if field.default is not None:
            help_text += f" (default {field.default})"
        parser.add_argument(*flags, dest=field.name, type=field.type, default=field.default,
                            choices=field.choices, help=help_text,
                            metavar=None if field.choices else
                            _METAVARS.get(field.name, field.name.upper()))


def request_from_args(args: argparse.Namespace, root: Path, request_type: Any = None,
                      **overrides: Any) -> Any:
    """The `SearchRequest` the parsed arguments describe (`path_prefix` made project-relative).

    Raises:
        ConfigError: a value the request rejects (the message lists valid ones).
    """
    from tldr.request import SearchRequest, search_fields

    request_type = request_type or SearchRequest
    params = {field.name: getattr(args, field.name) for field in search_fields(request_type)}
    if params.get("path_prefix"):
        params["path_prefix"] = resolve_path_prefix(params["path_prefix"], root)
    params.update(overrides)
    return request_type.from_params({name: value for name, value in params.items()
                                     if value is not None})


def resolve_path_prefix(typed: str, root: Path, cwd: Path | None = None, *,
                        option: str = "--path-prefix") -> str:
    """A path prefix as a user typed it, made relative to the project root.

    Absolute paths must be inside the project. A relative path names
    something under the current directory when that exists inside the
    project, else it is read as project-relative (as rg and fd read paths
    from where they run, while agents give root-relative ones).

    Raises:
        ConfigError: an absolute path outside the project.
    """
    root = root.resolve()
    path = Path(os.path.expanduser(typed))
    if path.is_absolute():
        candidate = Path(os.path.normpath(path))
    else:
        here = (cwd or Path.cwd()).resolve()
        from_here = Path(os.path.normpath(here / path))
        from_root = Path(os.path.normpath(root / path))
        if _inside(from_here, root) and (os.path.lexists(from_here)
                                         or not os.path.lexists(from_root)):
            candidate = from_here
        else:
            candidate = from_root
    if not _inside(candidate, root):
        if path.is_absolute():
            raise ConfigError(f"{option} {typed} is outside the project {root}")
        return typed  # let the request say what is wrong with it
    relative = candidate.relative_to(root).as_posix()
    return "" if relative == "." else relative


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


# -- terminals ------------------------------------------------------------------------


def use_color(stream: IO[str], choice: str = "auto") -> bool:
    """Colour for `stream`: `always`, `never`, or (auto) a terminal without NO_COLOR set."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def verbosity(args: argparse.Namespace) -> int:
    return int(getattr(args, "verbose", 0)) - int(getattr(args, "quiet", 0))


def note(args: argparse.Namespace, text: str, *, level: int = 0) -> None:
    """A note on stderr, shown when the verbosity is at least `level`."""
    if verbosity(args) >= level:
        print(f"tldrf: {text}", file=sys.stderr)


def add_location_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-root", metavar="DIR",
        help="index mode: keep the index in DIR/indexes/<key>/, not in the project "
        "(env TLDR_CACHE_ROOT)",
    )
    parser.add_argument(
        "--index", metavar="NAME",
        help="index mode: the index's name (env TLDR_INDEX; default semantic; "
        "without --cache-root: under the user cache dir)",
    )


# The commands that act on one project's index (matched against the parser's prog).
_PROJECT_COMMANDS = ("semantic index", "semantic search", "semantic info", "daemon ", "warm",
                     "mcp")


def add_location_options(parser: argparse.ArgumentParser) -> None:
    """Add `--cache-root` and `--index` to every command that acts on a project's index."""
    seen: set[int] = set()

    def visit(node: argparse.ArgumentParser) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        subcommands = [action for action in node._actions
                       if isinstance(action, argparse._SubParsersAction)]
        for action in subcommands:
            for child in action.choices.values():
                visit(child)
        command = node.prog.partition(" ")[2]
        dests = {action.dest for action in node._actions}
        if (not subcommands and command.startswith(_PROJECT_COMMANDS)
                and "cache_root" not in dests):
            add_location_arguments(node)

    visit(parser)


def index_paths(args: argparse.Namespace) -> IndexPaths:
    """The index a command acts on: its project, `--cache-root` and `--index`.

    Passed down as a value to the library and to the processes a command
    starts (a daemon, its build worker): nothing goes through the environment.
    """
    from tldr.paths import IndexPaths, find_project_root

    root = find_project_root(Path(project_of(args)).expanduser())
    cache_root = getattr(args, "cache_root", None)
    if isinstance(cache_root, str):
        cache_root = os.path.abspath(os.path.expanduser(cache_root))
    return IndexPaths(root, cache_root, getattr(args, "index", None))
