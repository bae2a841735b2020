#!/usr/bin/env python3
"""Planted-module execution: does indexing run code from the project?

Plants modules tldrf (or its dependencies) import — `filelock.py`,
`pathspec.py`, `watchfiles.py`, `msgspec.py`, `numpy.py`, `sitecustomize.py`,
`usercustomize.py`, a `tldr/` package — at the project root and in `.tldr/`,
each writing a marker file if imported; then starts the daemon, builds
through its build worker `--rounds` times (a fresh worker each time) and
searches. Also a `.git/config` with `core.fsmonitor` set to a marker command.

    scripts/stress/planted_modules.py [--rounds 3]

Prints one line: `planted_modules: rounds=3 builds=3 executed=0 ... ok`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import daemon_usage, make_project, scratch, verdict

PLANTED = ("filelock.py", "pathspec.py", "watchfiles.py", "msgspec.py", "numpy.py",
           "sitecustomize.py", "usercustomize.py", "tldr/__init__.py", "tldr/daemon/__init__.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with scratch("planted") as work:
        marker = work.base / "executed.txt"
        make_project(work.root, 200)
        for rel in PLANTED:
            for base in (work.root, work.root / ".tldr"):
                path = base / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"open({str(marker)!r}, 'a').write('{base.name}/{rel}\\n')\n")
        subprocess.run(["git", "init", "-q", str(work.root)], check=True)
        subprocess.run(["git", "-C", str(work.root), "config", "core.fsmonitor",
                        f"echo fsmonitor >> {marker}; true"], check=True)
        work.build()
        pid = work.start_daemon()
        builds = searches = 0
        from tldr.daemon.client import DaemonClient, search_via_daemon

        for _ in range(args.rounds):
            with DaemonClient(work.root, timeout=300, autostart=False) as client:
                client.call("index", {"rebuild": True, "wait": True, "timeout": 280})
                builds += 1
            searches += len(search_via_daemon(work.root, "retry backoff", k=3)) > 0
            # kill the build worker: the next build starts a fresh interpreter
            import psutil

            for child in psutil.Process(pid).children():
                child.kill()
        rss, fds = daemon_usage(pid)
        executed = marker.read_text().splitlines() if marker.exists() else []
    ok = not executed and builds == args.rounds and searches == args.rounds
    return verdict("planted_modules", {
        "rounds": args.rounds, "builds": builds, "searches_ok": searches,
        "planted": len(PLANTED) * 2 + 1, "executed": len(executed),
        "rss": f"{rss:.0f}MiB", "fds": fds,
    }, ok, [f"executed: {', '.join(sorted(set(executed)))}"] if executed else [])


if __name__ == "__main__":
    sys.exit(main())
