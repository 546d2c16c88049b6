"""Pure placement math: Java hashCode, partitions, rendezvous assignment, partition maps.

Imports nothing of the rest of the project and does no I/O. ``ACCELERATED`` is true when the
optional C string and byte-array hashes (``_speedups``) were built and are in use.
"""

from ignite_router.affinity.affinity_key import affinity_hash
from ignite_router.affinity.ids import (
    ACCELERATED,
    binary_object_hash,
    cache_id,
    field_id,
    schema_id,
    string_hash,
    type_id,
)
from ignite_router.affinity.javahash import java_hash
from ignite_router.affinity.partition import (
    MAX_PARTITIONS,
    partition,
    partition_function,
    partition_mask,
)
from ignite_router.affinity.partition_map import CacheAffinity, PartitionMap, PartitionMapHistory
from ignite_router.affinity.partitioners import (
    Murmur3Partitioner,
    Partitioner,
    RendezvousPartitioner,
)
from ignite_router.affinity.rendezvous import (
    REPLICATED_BACKUPS,
    AmbiguousOrderError,
    assign,
    node_order,
    partition_owners,
)
from ignite_router.affinity.types import (
    CollectionKind,
    EnumValue,
    IgniteCollection,
    IgniteMap,
    IgniteType,
    MapKind,
    infer_type,
    resolve,
)

__all__ = [
    "ACCELERATED",
    "MAX_PARTITIONS",
    "REPLICATED_BACKUPS",
    "AmbiguousOrderError",
    "CacheAffinity",
    "CollectionKind",
    "EnumValue",
    "IgniteCollection",
    "IgniteMap",
    "IgniteType",
    "MapKind",
    "Murmur3Partitioner",
    "PartitionMap",
    "PartitionMapHistory",
    "Partitioner",
    "RendezvousPartitioner",
    "affinity_hash",
    "assign",
    "binary_object_hash",
    "cache_id",
    "field_id",
    "infer_type",
    "java_hash",
    "node_order",
    "partition",
    "partition_function",
    "partition_mask",
    "partition_owners",
    "resolve",
    "schema_id",
    "string_hash",
    "type_id",
]
