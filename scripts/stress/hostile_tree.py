#!/usr/bin/env python3
"""Hostile trees: can a project's files hang, crash or escape indexing?

Builds one project full of traps, each case in a fresh copy and a bounded
`tldrf semantic index` (a hang shows as a timeout), then searches it through
the daemon: a FIFO, a socket, device nodes (or symlinks to them), symlink
loops and a link to `/`, names that are not UTF-8 or hold newlines, a
file whose one line is megabytes long, 200-deep directories, and
`--many` files.

    scripts/stress/hostile_tree.py [--many 100000] [--timeout 60]

Prints one line: `hostile_tree: cases=9 built=... hangs=0 tracebacks=0 ...`
and one indented line per failing case.
"""

from __future__ import annotations

import argparse
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MODEL, alive, make_project, scratch, verdict


def fifo(root: Path) -> None:
    os.mkfifo(root / "app_pipe.py")


def unix_socket(root: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "app_sock.py"))
    sock.close()


def devices(root: Path) -> None:
    for name, target in (("zero.py", "/dev/zero"), ("random.py", "/dev/urandom"),
                         ("tty.py", "/dev/tty")):
        (root / name).symlink_to(target)
    try:  # a real device node where we may make one
        os.mknod(root / "null_dev.py", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError):
        pass


def loops(root: Path) -> None:
    (root / "self").symlink_to(".")
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("a")
    (root / "rootfs").symlink_to("/")
    (root / "up").symlink_to("..")


def bad_names(root: Path) -> None:
    base = os.fsencode(root)
    for name in (b"bad\xff.py", b"new\nline.py", b"-rf.py", b"x" * 250 + b".py",
                 b"sp ace \xe9\xe8.py"):
        with open(base + b"/" + name, "wb") as handle:
            handle.write(b"def strange_name():\n    return 1\n")


def huge_lines(root: Path) -> None:
    (root / "one_line.py").write_text("X = '" + "a" * (900 * 1024) + "'\n")
    (root / "wide_calls.py").write_text(
        "def wide():\n    return " + " + ".join(f"f{i}()" for i in range(60_000)) + "\n")
    (root / "big.py").write_text("x = 1\n" * (3 * 2**20 // 6))  # over the 1 MiB limit


def deep_dirs(root: Path) -> None:
    path = root
    for level in range(200):
        path = path / f"d{level % 10}"
    path.mkdir(parents=True)
    (path / "deep.py").write_text("def deepest():\n    return 'bottom'\n")


def many_files(count: int) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        for number in range(count):
            folder = root / "many" / f"p{number // 1000}"
            if number % 1000 == 0:
                folder.mkdir(parents=True)
            (folder / f"m{number}.py").write_text(f"def f{number}():\n    return {number}\n")
    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--many", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds a build may take before it counts as a hang "
                        "(ten times that for the many-files case)")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    args = parser.parse_args()
    cases: list[tuple[str, Callable[[Path], None]]] = [
        ("fifo", fifo), ("socket", unix_socket), ("devices", devices), ("loops", loops),
        ("bad_names", bad_names), ("huge_lines", huge_lines), ("deep_dirs", deep_dirs),
        (f"{args.many}_files", many_files(args.many)),
    ]
    if args.cases:
        wanted = set(args.cases.split(","))
        cases = [case for case in cases if case[0] in wanted]
    from tldr.daemon.client import search_via_daemon

    outcomes: list[tuple[str, str, float]] = []
    for name, plant in cases:
        with scratch(f"tree-{name}") as work:
            make_project(work.root, 100)
            plant(work.root)
            started = time.monotonic()
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "tldr.cli", "semantic", "index", "--model", MODEL,
                     "--lock-timeout", "0", str(work.root)],
                    capture_output=True, text=True,
                    timeout=args.timeout * (10 if name.endswith("_files") else 1),
                )
            except subprocess.TimeoutExpired:
                outcomes.append((name, "hang", time.monotonic() - started))
                continue
            took = time.monotonic() - started
            output = done.stdout + done.stderr
            if "Traceback" in output:
                outcomes.append((name, "traceback: " + output.strip().splitlines()[-1], took))
                continue
            if done.returncode != 0:
                outcomes.append((name, "failed: " + output.strip()[-200:], took))
                continue
            try:
                pid = work.start_daemon()
                rows = search_via_daemon(work.root, "retry backoff", k=3)
                outcome = "ok" if rows and alive(pid) else "no results"
            except Exception as exc:
                outcome = f"search failed: {type(exc).__name__}: {exc}"
            outcomes.append((name, outcome, took))
    bad = [(name, outcome) for name, outcome, _ in outcomes if outcome != "ok"]
    return verdict("hostile_tree", {
        "cases": len(outcomes), "built_and_searched": len(outcomes) - len(bad),
        "hangs": sum(o == "hang" for _, o in bad),
        "tracebacks": sum(o.startswith("traceback") for _, o in bad),
        **{name: f"{took:.0f}s" for name, _, took in outcomes},
    }, not bad, [f"{name}: {outcome}" for name, outcome in bad])


if __name__ == "__main__":
    sys.exit(main())
