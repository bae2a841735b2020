"""The one exception root of tldrf and its small hierarchy.

```
TldrError                      anything tldrf reports to a user
├── ConfigError                a bad setting (flag, env var, config.toml)
├── IndexStateError            the on-disk index cannot serve this request
│   ├── IndexMissingError      no index yet
│   ├── IndexCorruptError      metadata or a referenced file is unreadable
│   │   └── GraphCorruptError  the code graph file is missing or damaged
│   ├── IndexIncompatibleError built with other settings/format than asked
│   │   └── LegacyIndexError   a schema v1 `index.faiss` was found
│   └── IndexBusyError         another build holds the rebuild lock
├── BackendError               a vector store failed
│   ├── UnknownBackendError    no backend registered under that id
│   └── BackendUnavailableError its optional dependency is missing
├── EmbedderError              the embedding model could not load or run
├── PluginError                a plugin registration is inconsistent
├── NameLookupError            a code-graph query named no single definition
│   ├── UnknownNameError       no definition has that name (did-you-mean listed)
│   └── AmbiguousNameError     several do (candidates listed)
└── DaemonError                the daemon could not be reached or started
    ├── ProtocolError          a malformed or failed JSON-RPC exchange
    │   └── RpcError           (daemon.protocol) the error object a request answers with
    ├── BuildCancelled         (daemon.builder) a build stopped: the daemon is shutting down
    └── WorkerError            (daemon.builder) the build worker died or failed unexpectedly
```

Private exceptions (`_Name`) never leave their module.

Third-party exceptions are translated at the boundary with `raise ... from`.
Every error has an `exit_code` the CLI uses.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "ConfigError",
    "DaemonError",
    "AmbiguousNameError",
    "EmbedderError",
    "GraphCorruptError",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexIncompatibleError",
    "IndexMissingError",
    "IndexStateError",
    "LegacyIndexError",
    "NameLookupError",
    "PluginError",
    "ProtocolError",
    "TldrError",
    "UnknownBackendError",
    "UnknownNameError",
]


class TldrError(Exception):
    """Root of every error tldrf raises on purpose."""

    exit_code = 1


class ConfigError(TldrError):
    """A setting has an invalid value."""


class IndexStateError(TldrError):
    """The on-disk index cannot serve the request; the message says what to run."""

    exit_code = 2


class IndexMissingError(IndexStateError):
    """No semantic index has been built for the project."""


class IndexCorruptError(IndexStateError):
    """Metadata or a file it references is missing or unreadable."""


class IndexIncompatibleError(IndexStateError):
    """The index was built with settings or a format this request cannot use."""


class LegacyIndexError(IndexIncompatibleError):
    """A legacy (schema v1) FAISS index was found."""


class GraphCorruptError(IndexCorruptError):
    """The code graph file a build names is missing, damaged or of another format."""


class NameLookupError(TldrError):
    """A code-graph query named no single definition; the message lists candidates."""

    def __init__(self, message: str, candidates: list[str] | None = None) -> None:
        """Keep the candidates for callers that show them their own way."""
        super().__init__(message)
        self.candidates = list(candidates or [])


class UnknownNameError(NameLookupError):
    """No definition has the name asked for."""


class AmbiguousNameError(NameLookupError):
    """Several definitions have the name asked for."""


class IndexBusyError(IndexStateError):
    """Another build holds the rebuild lock and the caller chose not to wait."""


class BackendError(TldrError):
    """A vector store backend failed."""


class UnknownBackendError(BackendError):
    """No backend is registered under the requested id."""


class BackendUnavailableError(BackendError):
    """The backend's optional dependency is not installed."""


class EmbedderError(TldrError):
    """The embedding model could not be loaded or run."""


class PluginError(TldrError):
    """Plugins registered something inconsistent (for example one id twice)."""


class DaemonError(TldrError):
    """The daemon could not be reached, started or stopped."""


class ProtocolError(DaemonError):
    """A JSON-RPC exchange was malformed or returned an error."""
