"""scripts/editors/tldrf.lua (the Neovim plugin in docs/editors.md) in a headless nvim
against a live daemon on the mini project. Skipped without `nvim` on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tldr.daemon.client import DaemonClient

ROOT = Path(__file__).parents[1]
PLUGIN = ROOT / "scripts" / "editors" / "tldrf.lua"
DOCS = ROOT / "docs" / "editors.md"
NVIM = shutil.which("nvim")

# Runs inside nvim after the plugin is loaded: search, save a file, search for what
# was added, then write what happened to $TLDRF_TEST_OUT and quit.
_SCENARIO = r"""
local out = {}
local function qf() return vim.fn.getqflist() end
local function entries()
  local rows = {}
  for _, item in ipairs(qf()) do
    local file = vim.fn.fnamemodify(vim.fn.bufname(item.bufnr), ":p")
    table.insert(rows, { file = file, lnum = item.lnum, end_lnum = item.end_lnum,
                         text = item.text })
  end
  return rows
end

vim.cmd("TldrSearch retry with backoff")
out.found = vim.wait(30000, function() return #qf() > 0 end, 50)
out.first = entries()
out.title = vim.fn.getqflist({ title = 1 }).title

vim.cmd("cclose")
vim.cmd("edit src/config.py")
vim.fn.append("$", { "", "def frobnicate_widgets(count):", "    return count * 2" })
vim.cmd("write")
local deadline = os.time() + 30
repeat
  vim.fn.setqflist({}, "r", { items = {} })
  vim.cmd("silent TldrSearch frobnicate_widgets")
  vim.wait(5000, function() return #qf() > 0 end, 50)
  out.fresh = #qf() > 0 and entries()[1].text:find("frobnicate_widgets", 1, true) ~= nil
  if not out.fresh then vim.wait(300) end
until out.fresh or os.time() > deadline
out.second = entries()

local file = io.open(os.getenv("TLDRF_TEST_OUT"), "w")
file:write(vim.json.encode(out))
file:close()
vim.cmd("qall!")
"""


def test_docs_embed_the_plugin() -> None:
    """docs/editors.md shows exactly scripts/editors/tldrf.lua."""
    docs = DOCS.read_text(encoding="utf-8")
    assert f"```lua\n{PLUGIN.read_text(encoding='utf-8')}```" in docs


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed")
def test_tldr_search_fills_quickfix_and_save_notifies(
    indexed_project: Path, tmp_path: Path
) -> None:
    assert NVIM is not None
    scenario = tmp_path / "scenario.lua"
    scenario.write_text(_SCENARIO, encoding="utf-8")
    result_file = tmp_path / "result.json"
    env = dict(os.environ)  # keeps the test's own TLDR_RUNTIME_DIR
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["TLDRF_TEST_OUT"] = str(result_file)
    env["TLDR_DEBOUNCE_MS"] = "200"
    env["XDG_STATE_HOME"] = env["XDG_DATA_HOME"] = str(tmp_path / "nvim-state")
    proc = subprocess.run(
        [
            NVIM,
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-n",
            "-c",
            f"luafile {PLUGIN}",
            "-c",
            f"luafile {scenario}",
        ],
        cwd=indexed_project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result_file.exists(), f"nvim exited {proc.returncode}: {proc.stdout}{proc.stderr}"
    out = json.loads(result_file.read_text(encoding="utf-8"))

    assert out["found"], out
    assert out["title"] == "tldrf: retry with backoff"
    first = out["first"][0]
    assert Path(first["file"]).resolve() == (indexed_project / "src" / "retry.py").resolve()
    assert first["lnum"] == 4
    assert first["end_lnum"] > first["lnum"]
    assert first["text"].startswith("retry_with_backoff  def retry_with_backoff(")

    # Saving src/config.py sent `notify`, and the rebuilt index answers for it.
    assert out["fresh"], out
    second = out["second"][0]
    assert Path(second["file"]).resolve() == (indexed_project / "src" / "config.py").resolve()
    with DaemonClient(indexed_project) as client:
        status = client.call("status")
    assert status["stats"]["notified_paths"] >= 1
