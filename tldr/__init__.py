"""tldrf: local semantic code search.

Importing `tldr` is cheap: heavy modules (numpy, torch, usearch, tree-sitter)
load only when the semantic layer is used. The Python API lives in
`tldr.semantic`.
"""

from tldr._exceptions import (
    AmbiguousNameError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    DaemonError,
    EmbedderError,
    GraphCorruptError,
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
    IndexStateError,
    LegacyIndexError,
    NameLookupError,
    PluginError,
    ProtocolError,
    TldrError,
    UnknownBackendError,
    UnknownNameError,
)
from tldr._version import __version__

__all__ = [
    "AmbiguousNameError",
    "BackendError",
    "BackendUnavailableError",
    "ConfigError",
    "DaemonError",
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
    "__version__",
]
