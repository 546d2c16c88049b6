"""Ask a live cluster where keys live: ``locate --connect`` and ``topology``.

Primaries come from the cluster's own partition map (OP_CACHE_PARTITIONS).
The thin protocol does not report backups, so backup owners are computed
with Ignite's rendezvous assignment over the consistent ids and join order
the cluster reports (ops 5100/5101) and the cache's configured backups;
``locate --verify`` then checks both against the nodes' own storage
(OP_CACHE_LOCAL_PEEK on every node).
"""

from __future__ import annotations

import uuid
from typing import Any

from ignite_router.affinity import IgniteType, assign, java_hash
from ignite_router.affinity.rendezvous import partition_owners
from ignite_router.cache import Cache
from ignite_router.client import Client
from ignite_router.protocol.messages.cache_properties import CacheProperty

__all__ = ["locate_live", "topology_report"]

REPLICATED = 1  # CACHE_MODE


def _owners_by_rendezvous(
    client: Client, cache: Cache, part: int | None, parts: int
) -> tuple[list[Any], list[tuple[int, ...]] | tuple[int, ...] | None, int]:
    """(nodes in topology order, owners of ``part`` or of every partition, backups)."""
    nodes = sorted(client.cluster_nodes(), key=lambda node: node.order)
    settings = cache.settings
    backups = int(settings.get(CacheProperty.BACKUPS_NUMBER, 0))
    if settings.get(CacheProperty.CACHE_MODE) == REPLICATED:
        backups = 2**31 - 1
    if not nodes:
        return nodes, None, backups
    ids = [node.consistent_id for node in nodes]
    node_ids = [node.node_id for node in nodes]
    if part is None:
        return nodes, assign(ids, parts, backups, node_ids), backups
    return nodes, partition_owners(ids, part, backups, node_ids), backups


def locate_live(
    client: Client, cache_name: str, key: Any, hint: IgniteType | None, verify: bool
) -> dict[str, Any]:
    """Where ``key`` lives in ``cache_name`` on the connected cluster, optionally verified."""
    cache = client.get_cache(cache_name)
    cache_map = client.refresh_partitions(cache)
    if cache_map is None:
        raise LookupError(f"the cluster has no partition map for cache {cache_name!r}")
    affinity = cache_map.affinity
    route = client.route(cache, key, hint)
    result: dict[str, Any] = {
        "cache": cache_name,
        "hash": java_hash(key, hint) if route.partition is not None else None,
        "partition": route.partition,
        "partitions": affinity.partitions if affinity.applicable else None,
        "topology_version": list(cache_map.version),
        "routing": route.reason,
        "primary": str(route.node_id) if route.node_id else None,
        "endpoint": "{}:{}".format(*route.endpoint) if route.endpoint else None,
        "backups": None,
    }
    expected: set[uuid.UUID] | None = None
    if route.partition is not None:
        nodes, owners, _ = _owners_by_rendezvous(
            client, cache, route.partition, affinity.partitions
        )
        if owners:
            ids = [nodes[index].node_id for index in owners]  # type: ignore[index]
            result["backups"] = [str(node_id) for node_id in ids[1:]]
            expected = set(ids)
            result["rendezvous_primary_agrees"] = ids[0] == route.node_id
    if verify:
        holders = [
            node["node_id"]
            for node in client.nodes()
            if node["up"] and cache.local_peek(key, node["node_id"], key_hint=hint) is not None
        ]
        result["holders"] = [str(node_id) for node_id in holders]
        if not holders:
            result["note"] = "no node stores this key: write it before verifying its placement"
        result["verified"] = bool(holders) and (
            set(holders) == expected if expected is not None else route.node_id in holders
        )
    return result


def topology_report(client: Client, cache_name: str | None) -> dict[str, Any]:
    """Nodes, the topology version, and per node the primary/backup partition counts."""
    nodes = sorted(client.cluster_nodes(), key=lambda node: node.order)
    connected = {node["node_id"]: node for node in client.nodes()}
    report: dict[str, Any] = {
        "topology_version": list(client.core.tracker.version or ()),
        "nodes": [
            {
                "node_id": str(node.node_id),
                "consistent_id": str(node.consistent_id),
                "order": node.order,
                "addresses": list(node.addresses),
                "endpoint": (
                    "{}:{}".format(*connected[node.node_id]["endpoint"])
                    if node.node_id in connected
                    else None
                ),
                "alive": bool(connected.get(node.node_id, {}).get("up", False)),
            }
            for node in nodes
        ],
    }
    if cache_name is None:
        return report
    cache = client.get_cache(cache_name)
    cache_map = client.refresh_partitions(cache)
    if cache_map is None:
        raise LookupError(f"the cluster has no partition map for cache {cache_name!r}")
    report["topology_version"] = list(cache_map.version)
    affinity = cache_map.affinity
    primaries = dict.fromkeys((node.node_id for node in nodes), 0)
    for node_id in affinity.primaries:
        if node_id is not None:
            primaries[node_id] = primaries.get(node_id, 0) + 1
    backups_by_node = dict.fromkeys(primaries, 0)
    partitions = affinity.partitions if affinity.applicable else None
    backups = None
    if partitions:
        _, owners, backups = _owners_by_rendezvous(client, cache, None, partitions)
        for owner_list in owners or ():
            for index in owner_list[1:]:  # type: ignore[index]
                backups_by_node[nodes[index].node_id] += 1
    report["cache"] = {
        "name": cache_name,
        "partitions": partitions,
        "backups": backups,
        "applicable": affinity.applicable,
        "per_node": [
            {
                "node_id": str(node_id),
                "primary": primaries[node_id],
                "backup": backups_by_node.get(node_id, 0),
            }
            for node_id in primaries
        ],
    }
    return report
