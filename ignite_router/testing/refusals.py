"""What a local node answers when it does not apply a request, in Ignite's words (status 1).

Ignite's thin-client server answers any exception of a request with status 1
(``ClientStatus.FAILED``) and the exception's message
(``ClientRequestHandler.handleException``). The messages here are the ones its
cache layer raises:

- an update that met a topology change: ``CachePartialUpdateCheckedException``
  ("Failed to update keys (retry update if possible).", raised by
  ``GridNearAtomicAbstractUpdateFuture`` when a primary fails or leaves), whose
  ``getMessage()`` appends ``": " + failedKeys``; ``GridCacheUtils.convertToCacheException``
  passes it on unchanged as a ``CachePartialUpdateException``;
- a read that met one: the ``ClusterTopologyCheckedException`` of
  ``GridPartitionedSingleGetFuture`` / ``GridPartitionedGetFuture`` ("Failed to
  remap key to a new node after 3 attempts ...", ``DFLT_MAX_REMAP_CNT`` = 3),
  converted to a ``CacheException`` whose message is the
  ``ClusterTopologyException``'s ``toString()`` (``IgniteException.toString``:
  ``getClass() + ": " + getMessage()``); the node and mapping details Ignite
  appends are left out here;
- a request on a node that is stopping: ``NodeStoppingException``.

None of these requests was applied. ``forward_timeout`` is the local cluster's
own bound on waiting for another node (Ignite has none); see docs/testing.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from types import MappingProxyType

from ignite_router.protocol.values import BinaryTypeRegistry, read_value

__all__ = [
    "NODE_STOPPING",
    "REFUSAL_MESSAGES",
    "forward_timeout",
    "java_text",
    "topology_changed",
]

UPDATE_RETRY = "Failed to update keys (retry update if possible)."
READ_REMAP = (
    "class org.apache.ignite.cluster.ClusterTopologyException: Failed to remap key to a new "
    "node after 3 attempts (key got remapped to the same node)"
)
NODE_STOPPING = "Operation has been cancelled (node is stopping)."
FORWARD_TIMEOUT = "Local cluster: gave up waiting for node"

# What clients and tests can match on: each message starts with its entry.
REFUSAL_MESSAGES = MappingProxyType(
    {
        "topology_changed_update": UPDATE_RETRY,  # + ": [key, ...]"
        "topology_changed_read": READ_REMAP,  # + " [key=...]"
        "node_stopping": NODE_STOPPING,
        "forward_timeout": FORWARD_TIMEOUT,  # + the node, the bound, and whether it was applied
    }
)


def java_text(raw_key: bytes, registry: BinaryTypeRegistry | None = None) -> str:
    """A stored key as Java's ``toString()`` writes it (numbers, strings, booleans, UUIDs)."""
    try:
        value, _ = read_value(memoryview(raw_key), 0, registry)
    except Exception:  # any key the server stored can be named somehow
        return raw_key.hex()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str | uuid.UUID):
        return str(value)
    return repr(value)


def topology_changed(keys: Sequence[str], write: bool) -> str:
    """The refusal of a request whose keys met a topology change (``keys``: Java texts)."""
    if write:
        return f"{UPDATE_RETRY}: [{', '.join(keys)}]"
    return f"{READ_REMAP} [key={keys[0] if keys else ''}]"


def forward_timeout(node: str, seconds: float, applied_on_primary: bool) -> str:
    """Node ``node`` did not become able to act within ``forward_timeout`` seconds."""
    outcome = (
        "the update was applied on the primary, not yet on this backup"
        if applied_on_primary
        else "the request was not applied"
    )
    return f"{FORWARD_TIMEOUT} {node} for {seconds:g} s (forward_timeout): {outcome}"
