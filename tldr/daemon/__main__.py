"""`python -m tldr.daemon --project ROOT`: run one project's daemon in the foreground.

The CLI starts this detached (see `lifecycle.spawn_daemon`); run it by hand
to watch its log on the terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `--project` and run the daemon until it stops."""
    parser = argparse.ArgumentParser(prog="python -m tldr.daemon",
                                     description="Run the tldrf daemon for one project.")
    parser.add_argument("--project", default=".", help="project directory (default: .)")
    parser.add_argument("--cache-root", help="index mode: the cache root (env TLDR_CACHE_ROOT)")
    parser.add_argument("--index", help="index mode: the index name (env TLDR_INDEX)")
    args = parser.parse_args(argv)
    from tldr._exceptions import TldrError
    from tldr.daemon.runner import run_daemon

    try:
        return run_daemon(args.project, cache_root=args.cache_root, index=args.index)
    except TldrError as exc:
        print(f"tldrf daemon: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
