"""Index mode: `--cache-root`/`--index` keep a project's index outside the project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tldr._exceptions import ConfigError
from tldr.cli import main
from tldr.daemon.client import stop_daemon
from tldr.daemon.lifecycle import is_running
from tldr.paths import IndexPaths, daemon_files

MINI = Path(__file__).parent / "fixtures" / "projects" / "mini"


def _tree_files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in sorted(root.rglob("*"))}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MINI, tmp_path / "mini"))


def test_index_mode_builds_outside_the_project(project: Path, tmp_path: Path, capsys) -> None:
    cache_root = tmp_path / "cache-root"
    before = _tree_files(project)
    assert main(["semantic", "index", str(project), "--model", "hash-256",
                 "--cache-root", str(cache_root), "--index", "main"]) == 0
    assert _tree_files(project) == before  # not a byte inside the project

    paths = IndexPaths(project.resolve(), cache_root, "main")
    assert paths.semantic_dir == cache_root.resolve() / "indexes" / str(paths.key) / "cache" / \
        "semantic"
    assert paths.metadata.exists()
    assert paths.key.startswith("mini-")
    descriptor = json.loads((paths.index_dir / "index.json").read_text())
    assert descriptor["root"] == str(project.resolve()) and descriptor["index"] == "main"

    capsys.readouterr()
    assert main(["semantic", "info", str(project), "--cache-root", str(cache_root),
                 "--index", "main", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["index"]["key"] == paths.key and info["index_dir"] == str(paths.semantic_dir)
    assert main(["semantic", "info", str(project), "--cache-root", str(cache_root),
                 "--index", "main"]) == 0
    assert f"index:          {paths.key}" in capsys.readouterr().out

    assert main(["semantic", "search", "retry with backoff", "--path", str(project),
                 "--no-daemon", "--json", "--cache-root", str(cache_root),
                 "--index", "main"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["qualified_name"] == "retry_with_backoff"
    # The flags leave no trace in the environment, and there is no in-tree index.
    assert "TLDR_CACHE_ROOT" not in os.environ and "TLDR_INDEX" not in os.environ
    assert main(["semantic", "search", "retry", "--path", str(project), "--no-daemon"]) == 2


def test_keys_differ_by_root_name_and_cache_root(tmp_path: Path, monkeypatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert IndexPaths(a, tmp_path, "x").key != IndexPaths(b, tmp_path, "x").key
    assert IndexPaths(a, tmp_path, "x").key != IndexPaths(a, tmp_path, "y").key
    assert IndexPaths(a, tmp_path, "x").key == IndexPaths(a, tmp_path / "c", "x").key
    one = daemon_files(a, paths=IndexPaths(a, tmp_path, "x"))
    two = daemon_files(a, paths=IndexPaths(a, tmp_path / "c", "x"))
    in_tree = daemon_files(a, paths=IndexPaths(a, environ=False))
    assert len({one.socket, two.socket, in_tree.socket}) == 3
    assert IndexPaths(a, tmp_path, "x").key in Path(one.socket).name
    assert one.log_file.parent == IndexPaths(a, tmp_path, "x").index_dir
    monkeypatch.setenv("TLDR_CACHE_ROOT", str(tmp_path))
    monkeypatch.setenv("TLDR_INDEX", "x")
    assert daemon_files(a) == one
    with pytest.raises(ConfigError, match="bad index name"):
        IndexPaths(a, tmp_path, "../escape")
    with pytest.raises(ConfigError, match="inside the project"):
        IndexPaths(a, a / "indexes", "x")


def test_index_alone_uses_the_user_cache_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TLDR_USER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    paths = IndexPaths(tmp_path / "p", index="feature")
    assert paths.cache_root == (tmp_path / "xdg" / "tldrf").resolve()
    assert IndexPaths(tmp_path / "p").in_tree
    assert IndexPaths(tmp_path / "p", index="semantic", environ=False).in_tree


@pytest.fixture
def readonly_project(tmp_path: Path) -> Iterator[Path]:
    """A copy of the mini project that its owner cannot write (chmod -R a-w)."""
    base = Path(tempfile.mkdtemp(prefix="tldr-ro-"))
    base.chmod(0o755)
    root = Path(shutil.copytree(MINI, base / "ro"))
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    yield root
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    shutil.rmtree(base)


def _unprivileged_prefix() -> list[str] | None:
    """A command prefix under which the read-only tree cannot be written.

    Ourselves when we are not root; as root: `nobody` (setpriv), or, when
    `nobody` cannot run this interpreter (it lives in a private home), root
    without the capabilities that override file permissions. None: neither.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    import pwd

    nobody = pwd.getpwnam("nobody")
    candidates = [
        [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
         "--inh-caps=-all", "--bounding-set=-all"],
        [setpriv, "--bounding-set=-dac_override,-dac_read_search"],
    ]
    for prefix in candidates:
        probe = subprocess.run([*prefix, sys.executable, "-c", "import tldr.cli"],
                               capture_output=True, timeout=60)
        if probe.returncode == 0:
            return prefix
    return None


def test_readonly_tree_indexes_in_index_mode(readonly_project: Path) -> None:
    prefix = _unprivileged_prefix()
    if prefix is None:
        pytest.skip("root without a working setpriv: cannot drop the right to write anywhere")
    writable = Path(tempfile.mkdtemp(prefix="tldr-rw-"))
    try:
        if prefix and "--clear-groups" in prefix:
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chown(writable, nobody.pw_uid, nobody.pw_gid)
        before = _tree_files(readonly_project)
        env = {key: value for key, value in os.environ.items() if not key.startswith("TLDR_")}
        env.update(HOME=str(writable), TLDR_EMBEDDING_CACHE=str(writable / "emb"),
                   TLDR_STATE_DIR=str(writable / "state"), TLDR_RUNTIME_DIR=str(writable / "run"),
                   PYTHONDONTWRITEBYTECODE="1")
        command = [*prefix, sys.executable, "-m", "tldr.cli", "semantic", "index",
                   str(readonly_project), "--model", "hash-256", "--json"]
        in_tree = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        # Proof that the tree really is read-only to this user, and a one-line error.
        assert in_tree.returncode != 0 and "cannot create" in in_tree.stderr, in_tree.stderr
        assert "Traceback" not in in_tree.stderr
        built = subprocess.run([*command, "--cache-root", str(writable / "indexes")], env=env,
                               capture_output=True, text=True, timeout=120)
        assert built.returncode == 0, built.stderr
        assert json.loads(built.stdout)["status"] == "built"
        assert _tree_files(readonly_project) == before
        searched = subprocess.run(
            [*prefix, sys.executable, "-m", "tldr.cli", "semantic", "search", "merge settings",
             "--path", str(readonly_project), "--no-daemon", "--json",
             "--cache-root", str(writable / "indexes")],
            env=env, capture_output=True, text=True, timeout=120)
        assert searched.returncode == 0, searched.stderr
        assert json.loads(searched.stdout)[0]["qualified_name"] == "merge_settings"
    finally:
        shutil.rmtree(writable, ignore_errors=True)


@pytest.fixture
def index_mode_daemon(project: Path, tmp_path: Path, monkeypatch) -> Iterator[IndexPaths]:
    """`project` indexed in index mode, with TLDR_CACHE_ROOT/TLDR_INDEX exported;
    its subprocess daemon is stopped at teardown."""
    from tldr.semantic import build_semantic_index

    monkeypatch.setenv("TLDR_CACHE_ROOT", str(tmp_path / "cr"))
    monkeypatch.setenv("TLDR_INDEX", "wt")
    monkeypatch.setenv("TLDR_DEBOUNCE_MS", "100")
    root = project.resolve()
    build_semantic_index(root, model="hash-256")
    paths = IndexPaths(root)
    yield paths
    stop_daemon(daemon_files(root, paths=paths), timeout=5.0)


def test_daemon_serves_and_rebuilds_an_index_mode_index(index_mode_daemon: IndexPaths) -> None:
    from tldr.daemon.client import DaemonClient, search_via_daemon

    paths = index_mode_daemon
    before = _tree_files(paths.root)
    rows = search_via_daemon(paths.root, "retry with backoff", k=3)
    assert rows[0]["qualified_name"] == "retry_with_backoff"
    files = daemon_files(paths.root, paths=paths)
    assert is_running(files) and paths.key in files.socket
    assert files.log_file.is_file() and files.log_file.parent == paths.index_dir
    # Another index of the same project has its own (not yet running) daemon.
    other = daemon_files(paths.root, paths=IndexPaths(paths.root, paths.cache_root, "other"))
    assert not is_running(other)

    first_build = json.loads(paths.metadata.read_text())["vector_store"]["build_id"]
    (paths.root / "src" / "added.py").write_text(
        "def frobnicate_widgets(count):\n    return count * 2\n")
    with DaemonClient(paths.root) as client:
        client.call("notify", {"paths": ["src/added.py"]})
        result = client.call("index", {"wait": True})
    assert result is not None
    after = json.loads(paths.metadata.read_text())["vector_store"]["build_id"]
    assert after != first_build  # the background rebuild committed into the index-mode dir
    assert not (paths.root / ".tldr").exists()
    assert set(_tree_files(paths.root)) - set(before) == {"src/added.py"}
    rows = search_via_daemon(paths.root, "frobnicate widgets", k=1)
    assert rows[0]["qualified_name"] == "frobnicate_widgets"
