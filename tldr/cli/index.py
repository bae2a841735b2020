"""`tldrf index list|info|rm|gc` and `tldrf cache info|prune`.

Cheap to import (argparse, json): what a handler needs is imported inside it.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from typing import Any

from tldr.cli._support import Commands, add_location_arguments, command_group

__all__ = ["add_commands"]

_RAW = argparse.RawDescriptionHelpFormatter


def add_commands(commands: Commands, words: Sequence[str]) -> None:
    """Add the `index` and `cache` command groups."""
    _add_index_commands(commands)
    _add_cache_commands(commands)


def _add_index_commands(commands: Commands) -> None:
    """Add `index list|info|rm|gc`."""
    sub = command_group(
        commands, "index", help="list, inspect, remove and clean up indexes on this machine",
        description=(
            "Every index tldrf knows on this machine: in-tree ones (<project>/.tldr) it\n"
            "has built or served, and index-mode ones (--cache-root/--index).\n\n"
            "examples:\n"
            "  tldrf index list\n"
            "  tldrf index info ~/src/app --json\n"
            "  tldrf index rm app-3f9c0d1e2a4b\n"
            "  tldrf index gc"
        ),
    )

    listing = sub.add_parser(
        "list", help="every known index, with size, build, last use and daemon",
        description="List every index tldrf knows, one line each.")
    _add_scan_roots(listing)
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(handler=_list)

    info = sub.add_parser(
        "info", help="one index in detail",
        description="Show one index: a key from `index list`, or a project directory\n"
        "(with --cache-root/--index for its index-mode index).", formatter_class=_RAW)
    info.add_argument("target", nargs="?", default=".",
                      help="index key or project directory (default: .)")
    add_location_arguments(info)
    info.add_argument("--json", action="store_true", help="print as JSON")
    info.set_defaults(handler=_info)

    remove = sub.add_parser(
        "rm", help="stop its daemon and delete an index",
        description="Stop the index's daemon, take its build lock, delete it and forget it.",
        formatter_class=_RAW)
    remove.add_argument("target", help="index key or project directory")
    add_location_arguments(remove)
    remove.add_argument("--lock-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long to wait for a running build (default 10)")
    remove.add_argument("--json", action="store_true", help="print as JSON")
    remove.set_defaults(handler=_remove)

    gc = sub.add_parser(
        "gc", help="remove indexes of vanished projects and old index files",
        description="Remove indexes whose project is gone, and old versions, stale temp\n"
        "files and legacy embedding caches of the others; print what is freed.\n"
        "An index whose build is running is skipped.", formatter_class=_RAW)
    _add_scan_roots(gc)
    gc.add_argument("--json", action="store_true", help="print as JSON")
    gc.set_defaults(handler=_gc)


def _add_scan_roots(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-root", dest="scan_roots", metavar="DIR", action="append",
                        default=[],
                        help="also look for index-mode indexes under DIR (repeatable)")


def _add_cache_commands(commands: Commands) -> None:
    """Add `cache info|prune` (the shared embedding cache)."""
    sub = command_group(
        commands, "cache", help="inspect and prune the shared embedding cache",
        description=(
            "The embedding cache is shared by every index of this user (env\n"
            "TLDR_EMBEDDING_CACHE; limit TLDR_EMBEDDING_CACHE_MAX_MB, default 2048):\n"
            "a second worktree or copy of a project embeds only what changed.\n\n"
            "examples:\n  tldrf cache info\n  tldrf cache prune --max-mb 500"
        ),
    )
    info = sub.add_parser("info", help="where it is, how big, which models",
                          description="Show the embedding cache's path, size and contents.")
    info.add_argument("--json", action="store_true", help="print as JSON")
    info.set_defaults(handler=_cache_info)
    prune = sub.add_parser(
        "prune", help="evict least recently used vectors and reclaim space",
        description="Evict least recently used vectors down to the limit, then give the\n"
        "freed space back to the file system.", formatter_class=_RAW)
    prune.add_argument("--max-mb", type=float, metavar="N",
                       help="evict down to N MiB (default: the configured limit)")
    prune.add_argument("--json", action="store_true", help="print as JSON")
    prune.set_defaults(handler=_cache_prune)


def _size(count: int | None) -> str:
    value = float(count or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover - the loop returns


def _print(args: argparse.Namespace, payload: Any, text: str) -> int:
    print(json.dumps(payload, indent=2) if args.json else text)
    return 0


def _list(args: argparse.Namespace) -> int:
    from tldr.indexes import describe, known_indexes

    rows = [describe(paths) for paths in known_indexes(args.scan_roots)]
    lines = [f"{'KEY':<34} {'UNITS':>7} {'SIZE':>10} {'LAST USED':<20} {'DAEMON':<8} ROOT"]
    for row in rows:
        root = row["root"] + ("" if row["root_exists"] else " (gone)")
        lines.append(
            f"{row['key']:<34} {row['units'] if row['units'] is not None else '-':>7} "
            f"{_size(row['size_bytes']):>10} {(row['last_used'] or '-')[:19]:<20} "
            f"{row['daemon_pid'] or '-'!s:<8} {root}"
        )
    if not rows:
        lines = ["no indexes known; build one: tldrf semantic index PATH"]
    return _print(args, rows, "\n".join(lines))


def _info(args: argparse.Namespace) -> int:
    from tldr.indexes import describe, find_index

    row = describe(find_index(args.target, cache_root=_cache_root(args), index=args.index))
    width = max(map(len, row))
    text = "\n".join(f"{name + ':':<{width + 2}}{value if value is not None else '-'}"
                     for name, value in row.items())
    return _print(args, row, text)


def _remove(args: argparse.Namespace) -> int:
    from tldr.indexes import find_index, remove_index

    paths = find_index(args.target, cache_root=_cache_root(args), index=args.index)
    freed = remove_index(paths, lock_timeout=args.lock_timeout)
    removed = paths.semantic_dir if paths.in_tree else paths.index_dir
    payload = {"removed": str(removed), "key": paths.key, "freed_bytes": freed}
    return _print(args, payload, f"removed {removed} ({_size(freed)} freed)")


def _gc(args: argparse.Namespace) -> int:
    from tldr.indexes import collect_index_garbage, known_indexes

    actions = collect_index_garbage(known_indexes(args.scan_roots))
    total = sum(action["freed_bytes"] for action in actions)
    lines = [f"{action['index']}: removed {action['removed']} ({_size(action['freed_bytes'])})"
             for action in actions]
    lines.append(f"freed {_size(total)}")
    return _print(args, {"actions": actions, "freed_bytes": total}, "\n".join(lines))


def _cache_info(args: argparse.Namespace) -> int:
    from tldr.paths import embedding_cache_file
    from tldr.semantic.indexing.embedding_cache import cache_stats

    stats = cache_stats(embedding_cache_file())
    lines = [
        f"path:    {stats['path']}",
        f"size:    {_size(stats['size_bytes'])} on disk, {_size(stats['live_bytes'])} in use, "
        f"limit {_size(stats['limit_bytes'])}",
        f"vectors: {stats['vectors']}",
    ]
    for space in stats["spaces"]:
        lines.append(f"  {space['vectors']:>8}  {space['model']} (text format "
                     f"{space['text_format']})")
    return _print(args, stats, "\n".join(lines))


def _cache_prune(args: argparse.Namespace) -> int:
    from tldr.paths import embedding_cache_file
    from tldr.semantic.indexing.embedding_cache import prune

    result = prune(embedding_cache_file(), max_mb=args.max_mb)
    return _print(args, result, f"evicted {result['evicted']} vectors, "
                  f"freed {_size(result['freed_bytes'])}")


def _cache_root(args: argparse.Namespace) -> str | None:
    return os.path.abspath(os.path.expanduser(args.cache_root)) if args.cache_root else None
