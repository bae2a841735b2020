"""The per-project daemon: protocol, server, service, watcher, lifecycle, client.

Importing this package is free: the thin client (`tldr.daemon.client`) pulls
in only the standard library and msgspec; the server side loads the semantic
layer when it starts. See docs/protocol.md for the wire contract.
"""

__all__: list[str] = []
