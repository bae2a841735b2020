"""One registry owns every `TLDR_*` variable: its default, parser and documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tldr._exceptions import ConfigError
from tldr.settings import SETTINGS, setting, settings_table

PACKAGE = Path(__file__).resolve().parents[1] / "tldr"
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}


def test_every_variable_the_package_names_is_registered() -> None:
    named = set()
    for text in _sources().values():
        named |= set(re.findall(r"\bTLDR_[A-Z][A-Z_]*[A-Z]\b", text))
    assert named - set(SETTINGS) == set()


def test_only_the_registry_reads_the_environment_for_them() -> None:
    readers = [path.relative_to(PACKAGE.parent).as_posix()
               for path, text in _sources().items()
               if re.search(r"environ(\.get)?[\[(]\s*[\"']TLDR_", text)]
    assert readers == []


def test_docs_list_every_setting() -> None:
    usage = (DOCS / "usage.md").read_text()
    assert settings_table() in usage
    assert all(f"`{name}`" in usage for name in SETTINGS)


def test_values_parse_with_one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert setting("TLDR_DEBOUNCE_MS") == 2000
    monkeypatch.setenv("TLDR_DEBOUNCE_MS", "150")
    assert setting("TLDR_DEBOUNCE_MS") == 150
    monkeypatch.setenv("TLDR_DEBOUNCE_MS", "soon")
    with pytest.raises(ConfigError, match="TLDR_DEBOUNCE_MS must be an integer, got 'soon'"):
        setting("TLDR_DEBOUNCE_MS")
    monkeypatch.setenv("TLDR_IDLE_TIMEOUT", "-1")
    with pytest.raises(ConfigError, match="at least 0"):
        setting("TLDR_IDLE_TIMEOUT")
    monkeypatch.setenv("TLDR_MAX_FILE_BYTES", "5000000")
    assert setting("TLDR_MAX_FILE_BYTES") == 5_000_000
    monkeypatch.setenv("TLDR_MODEL", "  ")
    assert setting("TLDR_MODEL") is None  # empty counts as unset
    monkeypatch.setenv("TLDR_LOAD_PLUGINS", "")
    assert setting("TLDR_LOAD_PLUGINS") == ""  # except where empty means something
    monkeypatch.setenv("TLDR_NO_DAEMON", "yes")
    assert setting("TLDR_NO_DAEMON") is True
    monkeypatch.setenv("TLDR_LOG_LEVEL", "debug")
    assert setting("TLDR_LOG_LEVEL") == "DEBUG"
