"""How to install an optional part of tldrf: one message for every missing extra."""

from __future__ import annotations

from pathlib import Path

__all__ = ["install_hint"]


def install_hint(extra: str | None = None, *, package: str = "tldrf") -> str:
    """The command that installs `package` (with `extra`) where tldrf itself came from.

    From a clone (an editable install, `pyproject.toml` next to the package)
    that is `pip install -e '<clone>[extra]'`; else `pip install 'tldrf[extra]'`.
    """
    spec = f"[{extra}]" if extra else ""
    if package == "tldrf":
        clone = Path(__file__).resolve().parents[1]
        if (clone / "pyproject.toml").is_file():
            return f"pip install -e '{clone}{spec}'"
    return f"pip install '{package}{spec}'"
