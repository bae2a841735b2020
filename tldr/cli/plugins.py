"""CLI commands about plugins: `semantic backends`, `semantic configure`, `plugins list`.

Kept apart from `cli.py` so the entry point stays small; nothing heavy is
imported until a command runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tldr._exceptions import ConfigError
from tldr.cli._support import Commands, add_project_argument, command_group, index_paths

__all__ = ["add_commands", "add_semantic_plugin_commands"]


def add_semantic_plugin_commands(commands: Commands) -> None:
    """Add `backends` and `configure` under `tldrf semantic`."""
    backends = commands.add_parser(
        "backends",
        help="list vector store backends",
        description=(
            "List every registered vector store backend: id, name, where it comes\n"
            "from (built-in or a plugin distribution), whether it is available and\n"
            "why not, its index format, library version and a health check.\n\n"
            "examples:\n"
            "  tldrf semantic backends\n"
            "  tldrf semantic backends --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backends.add_argument("--json", action="store_true", help="print as JSON")
    backends.set_defaults(handler=_run_backends)

    configure = commands.add_parser(
        "configure",
        help="show or change a backend's settings",
        description=(
            "Show or change one backend's settings in .tldr/config.toml\n"
            "([vector_store.<id>]); values are checked against the backend's schema\n"
            "and take effect at the next build.\n\n"
            "examples:\n"
            "  tldrf semantic configure usearch --show\n"
            "  tldrf semantic configure usearch --set connectivity=32 --set expansion_search=128\n"
            "  tldrf semantic configure qdrant --set url=http://qdrant:6333 "
            "--set api_key_env=QDRANT_API_KEY"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure.add_argument("backend", help="backend id (see tldrf semantic backends)")
    add_project_argument(configure)
    configure.add_argument("--show", action="store_true", help="show settings (the default)")
    configure.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a setting (repeatable); VALUE is read as JSON, else text",
    )
    configure.add_argument(
        "--unset",
        action="append",
        default=[],
        metavar="KEY",
        help="remove a setting, back to its default (repeatable)",
    )
    configure.add_argument("--json", action="store_true", help="print as JSON")
    configure.set_defaults(handler=_run_configure)


def add_commands(commands: Commands, words: Sequence[str] = ()) -> None:
    """Add `tldrf plugins list`."""
    plugin_commands = command_group(
        commands, "plugins", help="inspect installed plugins",
        description="Inspect installed tldrf plugins.",
    )
    listing = plugin_commands.add_parser(
        "list",
        help="list loaded plugins, or those that failed",
        description=(
            "List plugins with the hooks they implement and their versions.\n"
            "TLDR_LOAD_PLUGINS selects external plugins: unset = all, '' = none,\n"
            "'a,b' = only those distributions.\n\n"
            "examples:\n"
            "  tldrf plugins list\n"
            "  tldrf plugins list --failed --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.add_argument("--failed", action="store_true", help="only plugins that failed to load")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(handler=_run_plugins_list)


def _run_backends(args: argparse.Namespace) -> int:
    from tldr.plugins import registered_vector_stores

    rows = []
    for backend_id, registration in sorted(registered_vector_stores().items()):
        backend = registration.obj
        available, reason = backend.is_available()
        row: dict[str, Any] = {
            "id": backend_id,
            "name": backend.display_name,
            "source": registration.source,
            "available": available,
            "reason": reason,
            "index_format": backend.index_format,
            "version": None,
            "healthy": None,
            "health": None,
        }
        if available:
            row["version"] = backend.backend_version()
            row["healthy"], row["health"] = backend.health_check()
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        state = "available" if row["available"] else f"unavailable: {row['reason']}"
        print(f"{row['id']:<14} {row['name']}  [{row['source']}]")
        print(f"{'':<14} {state}")
        if row["available"]:
            health = "ok" if row["healthy"] else f"FAILED: {row['health']}"
            print(f"{'':<14} {row['index_format']}, version {row['version']}, health {health}")
    return 0


def _run_configure(args: argparse.Namespace) -> int:
    import tomlkit

    from tldr.vector_store import get_backend
    from tldr.vector_store.base import validate_settings

    backend = get_backend(args.backend)
    paths = index_paths(args)
    document = _read_toml(paths.config)
    current = dict(document.get("vector_store", {}).get(args.backend, {}))
    for item in args.set:
        key, separator, raw = item.partition("=")
        if not separator or not key.strip():
            raise ConfigError(f"--set takes KEY=VALUE, got {item!r}")
        current[key.strip()] = _parse_value(raw)
    for key in args.unset:
        current.pop(key, None)
    effective = validate_settings(backend.settings_schema, current, args.backend)
    if args.set or args.unset:
        tables = document.setdefault("vector_store", tomlkit.table())
        tables[args.backend] = current
        paths.config.parent.mkdir(parents=True, exist_ok=True)
        paths.config.write_text(tomlkit.dumps(document))
    if args.json:
        print(
            json.dumps(
                {
                    "backend": args.backend,
                    "configured": current,
                    "effective": effective,
                    "schema": backend.settings_schema,
                },
                indent=2,
            )
        )
        return 0
    properties = backend.settings_schema.get("properties", {})
    print(f"[vector_store.{args.backend}] in {paths.config}")
    for key in sorted(set(properties) | set(effective)):
        origin = "set" if key in current else "default"
        description = properties.get(key, {}).get("description", "")
        print(f"  {key} = {json.dumps(effective.get(key))}  ({origin}) {description}".rstrip())
    return 0


def _read_toml(path: Path) -> Any:
    import tomlkit

    try:
        return tomlkit.parse(path.read_text())
    except FileNotFoundError:
        return tomlkit.document()
    except Exception as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _run_plugins_list(args: argparse.Namespace) -> int:
    from tldr.plugins import failed_plugins, get_plugins

    if args.failed:
        failed = [vars(failure) for failure in failed_plugins()]
        if args.json:
            print(json.dumps(failed, indent=2))
        elif not failed:
            print("no failed plugins")
        else:
            for failure in failed:
                print(f"{failure['distribution']} ({failure['entry_point']}): {failure['error']}")
        return 0
    plugins: list[dict[str, Any]] = [
        {
            "name": p.name,
            "hooks": list(p.hooks),
            "version": p.version,
            "distribution": p.distribution,
        }
        for p in get_plugins()
    ]
    if args.json:
        print(json.dumps(plugins, indent=2))
        return 0
    for plugin in plugins:
        origin = (
            f"{plugin['distribution']} {plugin['version'] or ''}".strip()
            if plugin["distribution"]
            else "built-in"
        )
        print(f"{plugin['name']}  [{origin}]")
        print(f"    hooks: {', '.join(plugin['hooks'])}")
    return 0
