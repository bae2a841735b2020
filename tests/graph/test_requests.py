"""The code-graph requests: validation, and the surfaces derived from their fields."""

from __future__ import annotations

import pytest

from tldr._exceptions import ConfigError
from tldr.cli import build_parser
from tldr.daemon.protocol import search_params_table
from tldr.graph_request import (
    GRAPH_REQUESTS,
    ChangeImpactRequest,
    ContextRequest,
    DeadRequest,
    ImpactRequest,
    SliceRequest,
    request_for_command,
)
from tldr.request import request_fields


def test_every_field_has_help_and_every_command_a_parser() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    for kind in GRAPH_REQUESTS:
        for field in request_fields(kind):
            assert field.description, (kind, field.name)
        assert kind.COMMAND in commands.choices
        assert request_for_command(kind.COMMAND) is kind


def test_unknown_and_missing_fields_name_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown impact field.*deph.*did you mean 'depth'"):
        ImpactRequest.from_params({"name": "f", "deph": 2})
    with pytest.raises(ConfigError, match="impact needs name"):
        ImpactRequest.from_params({})


def test_types_bounds_and_choices() -> None:
    with pytest.raises(ConfigError, match="depth must be an integer"):
        ImpactRequest(name="f", depth=True)
    with pytest.raises(ConfigError, match="depth must be between 1 and 10"):
        ContextRequest(entry="f", depth=11)
    with pytest.raises(ConfigError, match=r"unknown direction 'up'.*backward, forward"):
        SliceRequest(file="a.py", function="f", line=3, direction="up")
    with pytest.raises(ConfigError, match="entry must be a list of strings"):
        DeadRequest(entry=[1])  # type: ignore[list-item]


def test_paths_are_project_relative() -> None:
    assert SliceRequest(file="./pkg//a.py", function="f", line=1).file == "pkg/a.py"
    assert ChangeImpactRequest(files=["./a.py", "b/"]).files == ["a.py", "b"]
    with pytest.raises(ConfigError, match="outside the project"):
        SliceRequest(file="../etc/passwd", function="f", line=1)
    with pytest.raises(ConfigError, match="bad git ref"):
        ChangeImpactRequest(git="--output=/tmp/x")


def test_params_round_trip_and_immutability() -> None:
    request = ContextRequest(entry="Session.send", budget_tokens=500)
    assert request.params() == {"entry": "Session.send", "budget_tokens": 500}
    assert ContextRequest.from_params(request.params()) == request
    with pytest.raises(AttributeError):
        request.depth = 3  # type: ignore[misc]


def test_a_new_field_reaches_the_cli_and_the_protocol_table() -> None:
    class Wider(ImpactRequest):
        FIELD_HELP = {**ImpactRequest.FIELD_HELP, "tests_only": "only tests"}  # noqa: RUF012

        def __init__(self, *, name: str, depth: int = 2, file: str | None = None,
                     tests_only: bool = False) -> None:
            self._set(locals())

    assert "`tests_only` | bool" in search_params_table(Wider)
    assert "| `depth` | int 1..10 | `2` |" in search_params_table(Wider)
    import argparse

    from tldr.cli.graph import _add_command

    parser = argparse.ArgumentParser()
    _add_command(parser.add_subparsers(), Wider)  # type: ignore[arg-type]
    args = parser.parse_args(["impact", "f", "--tests-only"])
    assert args.tests_only is True
