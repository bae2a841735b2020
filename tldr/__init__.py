"""tldrf: local semantic code search.

Importing `tldr` is cheap: heavy modules (numpy, torch, usearch, tree-sitter)
load only when the semantic layer is used. The Python API lives in
`tldr.semantic`.
"""

from tldr._exceptions import (
    BackendError,
    BackendUnavailableError,
    ConfigError,
    DaemonError,
    EmbedderError,
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
    IndexStateError,
    LegacyIndexError,
    PluginError,
    ProtocolError,
    TldrError,
    UnknownBackendError,
)
from tldr._version import __version__

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "ConfigError",
    "DaemonError",
    "EmbedderError",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexIncompatibleError",
    "IndexMissingError",
    "IndexStateError",
    "LegacyIndexError",
    "PluginError",
    "ProtocolError",
    "TldrError",
    "UnknownBackendError",
    "__version__",
]
