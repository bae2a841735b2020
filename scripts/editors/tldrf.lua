-- tldrf: semantic code search into the quickfix list. Neovim 0.7+, no plugins.
-- Copy to ~/.config/nvim/plugin/tldrf.lua. Needs `tldrf` on PATH.
local uv = vim.uv or vim.loop -- vim.uv is Neovim 0.10+
local sockets = {} -- project root -> {root = ..., socket = ...} from `tldrf daemon start`

local function warn(message, level)
  vim.notify("tldrf: " .. message, level or vim.log.levels.ERROR)
end

-- The nearest directory at or above `path` holding .tldr or .git, else the cwd.
local function project_root(path)
  local dir = (path and path ~= "") and vim.fn.fnamemodify(path, ":p:h") or uv.cwd()
  while true do
    if uv.fs_stat(dir .. "/.tldr") or uv.fs_stat(dir .. "/.git") then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return uv.cwd()
    end
    dir = parent
  end
end

local function decode(text)
  return vim.json.decode(text, { luanil = { object = true, array = true } })
end

-- Start (or find) the project's daemon once, then call back with {root, socket}.
local function with_daemon(root, callback)
  if sockets[root] then
    return callback(sockets[root])
  end
  local out, err = {}, {}
  local ok, job = pcall(vim.fn.jobstart, { "tldrf", "daemon", "start", "--path", root, "--json" }, {
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data) out = data end,
    on_stderr = function(_, data) err = data end,
    on_exit = function(_, code)
      if code ~= 0 then
        return warn("daemon start failed: " .. table.concat(err, "\n"))
      end
      sockets[root] = decode(table.concat(out, "\n"))
      callback(sockets[root])
    end,
  })
  if not ok or job <= 0 then
    warn("cannot run tldrf (is it on PATH?)")
  end
end

-- One JSON-RPC request on a fresh connection; on_message gets the decoded
-- response on the main loop. If the daemon went away (idle shutdown), start
-- it again once.
local function request(root, method, params, on_message, retried)
  with_daemon(root, function(daemon)
    local pipe = uv.new_pipe(false)
    pipe:connect(daemon.socket, function(connect_err)
      if connect_err then
        pipe:close()
        sockets[root] = nil
        return vim.schedule(function()
          if retried then
            return warn("cannot connect: " .. connect_err)
          end
          request(root, method, params, on_message, true)
        end)
      end
      local buffer = ""
      pipe:read_start(function(read_err, chunk)
        if read_err or not chunk then
          return pipe:close()
        end
        buffer = buffer .. chunk
        local newline = buffer:find("\n", 1, true)
        if newline then
          pipe:read_stop()
          pipe:close()
          local message = decode(buffer:sub(1, newline - 1))
          vim.schedule(function() on_message(message, daemon) end)
        end
      end)
      local line = vim.json.encode({ jsonrpc = "2.0", id = 1, method = method, params = params })
      pipe:write(line .. "\n")
    end)
  end)
end

local function search(query, attempt)
  request(project_root(vim.api.nvim_buf_get_name(0)), "search", { query = query, k = 20 },
    function(message, daemon)
      if message.error then
        -- -32000: no index yet; the daemon is building one and says how far it got.
        if message.error.code == -32000 and attempt < 30 then
          warn(message.error.message, vim.log.levels.INFO)
          return vim.defer_fn(function() search(query, attempt + 1) end, 2000)
        end
        return warn(message.error.message)
      end
      local items = {}
      for _, row in ipairs(message.result.results) do
        table.insert(items, {
          filename = daemon.root .. "/" .. row.file,
          lnum = row.line,
          end_lnum = row.end_line,
          text = string.format("%s  %s  (%.2f)", row.qualified_name, row.signature or "", row.score),
        })
      end
      vim.fn.setqflist({}, " ", { title = "tldrf: " .. query, items = items })
      vim.cmd("copen")
    end)
end

vim.api.nvim_create_user_command("TldrSearch", function(opts)
  search(opts.args, 1)
end, { nargs = "+", desc = "tldrf semantic code search into the quickfix list" })

-- Tell a running daemon about saved files (it also watches the tree; this
-- helps on network drives and in containers where file events are lost).
vim.api.nvim_create_autocmd("BufWritePost", {
  group = vim.api.nvim_create_augroup("tldrf", { clear = true }),
  callback = function(args)
    local path = vim.api.nvim_buf_get_name(args.buf)
    local root = project_root(path)
    if sockets[root] then
      request(root, "notify", { paths = { path } }, function(message)
        if message.error then
          warn(message.error.message)
        end
      end)
    end
  end,
})
