"""`tldrf completion bash|zsh|fish|tcsh|powershell`: shell completion, by shtab.

shtab writes each shell's script from the argparse tree itself, so a new
command or option completes without anyone editing a script; it is imported
only by this command.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tldr.cli._support import Commands, RawFormatter

__all__ = ["SHELLS", "add_commands", "completion_script"]

SHELLS = ("bash", "zsh", "fish", "tcsh", "powershell")


def add_commands(commands: Commands, words: Sequence[str] = ()) -> None:
    """Add `completion SHELL`."""
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script",
        description=(
            "Print the completion script for a shell, generated from the commands\n"
            "and options of this tldrf.\n\n"
            "examples:\n"
            '  eval "$(tldrf completion bash)"            # in ~/.bashrc\n'
            "  tldrf completion zsh > ~/.zfunc/_tldrf      # a dir on $fpath\n"
            "  tldrf completion fish > ~/.config/fish/completions/tldrf.fish"
        ),
        formatter_class=RawFormatter,
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell")
    completion.set_defaults(handler=_run)


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of `shell` for `parser`'s program."""
    import shtab

    return str(shtab.complete(parser, shell=shell))


def _run(args: argparse.Namespace) -> int:
    from tldr.cli import build_parser

    print(completion_script(build_parser(), args.shell))
    return 0
