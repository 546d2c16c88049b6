"""Protocol constants, one table each: operation codes, response flags, feature bits."""

from __future__ import annotations

from enum import Enum, IntEnum, IntFlag

__all__ = [
    "CacheFlag",
    "Feature",
    "OpCode",
    "PeekMode",
    "ResponseFlag",
    "RetrySafety",
    "retry_safety",
]


class OpCode(IntEnum):
    """Operation codes (server ``ClientMessageParser``).

    The whole table, so that logs can name any code; which of them this
    package encodes is listed in docs/protocol.md. The atomic-long and set
    ranges (9000-9023) are left out.
    """

    RESOURCE_CLOSE = 0
    HEARTBEAT = 1
    GET_IDLE_TIMEOUT = 2
    CACHE_GET = 1000
    CACHE_PUT = 1001
    CACHE_PUT_IF_ABSENT = 1002
    CACHE_GET_ALL = 1003
    CACHE_PUT_ALL = 1004
    CACHE_GET_AND_PUT = 1005
    CACHE_GET_AND_REPLACE = 1006
    CACHE_GET_AND_REMOVE = 1007
    CACHE_GET_AND_PUT_IF_ABSENT = 1008
    CACHE_REPLACE = 1009
    CACHE_REPLACE_IF_EQUALS = 1010
    CACHE_CONTAINS_KEY = 1011
    CACHE_CONTAINS_KEYS = 1012
    CACHE_CLEAR = 1013
    CACHE_CLEAR_KEY = 1014
    CACHE_CLEAR_KEYS = 1015
    CACHE_REMOVE_KEY = 1016
    CACHE_REMOVE_IF_EQUALS = 1017
    CACHE_REMOVE_KEYS = 1018
    CACHE_REMOVE_ALL = 1019
    CACHE_GET_SIZE = 1020
    CACHE_LOCAL_PEEK = 1021
    CACHE_PUT_ALL_CONFLICT = 1022
    CACHE_REMOVE_ALL_CONFLICT = 1023
    CACHE_INVOKE = 1024
    CACHE_INVOKE_ALL = 1025
    CACHE_GET_NAMES = 1050
    CACHE_CREATE_WITH_NAME = 1051
    CACHE_GET_OR_CREATE_WITH_NAME = 1052
    CACHE_CREATE_WITH_CONFIGURATION = 1053
    CACHE_GET_OR_CREATE_WITH_CONFIGURATION = 1054
    CACHE_GET_CONFIGURATION = 1055
    CACHE_DESTROY = 1056
    CACHE_NODE_PARTITIONS = 1100
    CACHE_PARTITIONS = 1101
    QUERY_SCAN = 2000
    QUERY_SCAN_CURSOR_GET_PAGE = 2001
    QUERY_SQL = 2002
    QUERY_SQL_CURSOR_GET_PAGE = 2003
    QUERY_SQL_FIELDS = 2004
    QUERY_SQL_FIELDS_CURSOR_GET_PAGE = 2005
    QUERY_CONTINUOUS = 2006
    QUERY_CONTINUOUS_EVENT = 2007
    QUERY_INDEX = 2008
    QUERY_INDEX_CURSOR_GET_PAGE = 2009
    BINARY_TYPE_NAME_GET = 3000
    BINARY_TYPE_NAME_PUT = 3001
    BINARY_TYPE_GET = 3002
    BINARY_TYPE_PUT = 3003
    BINARY_CONFIGURATION_GET = 3004
    TX_START = 4000
    TX_END = 4001
    CLUSTER_GET_STATE = 5000
    CLUSTER_CHANGE_STATE = 5001
    CLUSTER_CHANGE_WAL_STATE = 5002
    CLUSTER_GET_WAL_STATE = 5003
    CLUSTER_GROUP_GET_NODE_IDS = 5100
    CLUSTER_GROUP_GET_NODE_INFO = 5101
    CLUSTER_GROUP_GET_NODE_ENDPOINTS = 5102
    COMPUTE_TASK_EXECUTE = 6000
    COMPUTE_TASK_FINISHED = 6001
    SERVICE_INVOKE = 7000
    SERVICE_GET_DESCRIPTORS = 7001
    SERVICE_GET_DESCRIPTOR = 7002
    SERVICE_GET_TOPOLOGY = 7003
    DATA_STREAMER_START = 8000
    DATA_STREAMER_ADD_DATA = 8001


class RetrySafety(Enum):
    """What sending an operation a second time can do, by its definition.

    ``READ``: nothing (it changes no data). ``IDEMPOTENT``: nothing either,
    even when an earlier attempt lands late (a get-or-create of a cache, a
    binary type registration: Ignite merges metadata and refuses conflicts).
    ``WRITE``: a lone repetition
    leaves the same data (a put of the same value, a removal), but a first
    attempt that lands *after* the repetition, or after another client's newer
    write, overwrites it. ``CONDITIONAL``: the answer depends on whether an
    earlier attempt was applied (``get_and_put``, ``put_if_absent``,
    ``replace``, ...), or a repetition fails (``create_cache``), or the
    request's effect is unknown (SQL, which may be DML). Ignite's Java client
    lists the read-only operations in ``ClientRetryReadPolicy``.
    """

    READ = "read"
    IDEMPOTENT = "idempotent"
    WRITE = "write"
    CONDITIONAL = "conditional"


_READS = frozenset(
    {
        OpCode.HEARTBEAT,
        OpCode.GET_IDLE_TIMEOUT,
        OpCode.CACHE_GET,
        OpCode.CACHE_GET_ALL,
        OpCode.CACHE_CONTAINS_KEY,
        OpCode.CACHE_CONTAINS_KEYS,
        OpCode.CACHE_GET_SIZE,
        OpCode.CACHE_LOCAL_PEEK,
        OpCode.CACHE_GET_NAMES,
        OpCode.CACHE_GET_CONFIGURATION,
        OpCode.CACHE_NODE_PARTITIONS,
        OpCode.CACHE_PARTITIONS,
        OpCode.QUERY_SCAN,
        OpCode.QUERY_INDEX,
        OpCode.BINARY_TYPE_NAME_GET,
        OpCode.BINARY_TYPE_GET,
        OpCode.BINARY_CONFIGURATION_GET,
        OpCode.CLUSTER_GET_STATE,
        OpCode.CLUSTER_GET_WAL_STATE,
        OpCode.CLUSTER_GROUP_GET_NODE_IDS,
        OpCode.CLUSTER_GROUP_GET_NODE_INFO,
        OpCode.CLUSTER_GROUP_GET_NODE_ENDPOINTS,
        OpCode.SERVICE_GET_DESCRIPTORS,
        OpCode.SERVICE_GET_DESCRIPTOR,
        OpCode.SERVICE_GET_TOPOLOGY,
    }
)
_IDEMPOTENT = frozenset(
    {
        OpCode.CACHE_GET_OR_CREATE_WITH_NAME,
        OpCode.CACHE_GET_OR_CREATE_WITH_CONFIGURATION,
        OpCode.BINARY_TYPE_NAME_PUT,
        OpCode.BINARY_TYPE_PUT,
    }
)
_WRITES = frozenset(
    {
        OpCode.CACHE_PUT,
        OpCode.CACHE_PUT_ALL,
        OpCode.CACHE_CLEAR,
        OpCode.CACHE_CLEAR_KEY,
        OpCode.CACHE_CLEAR_KEYS,
        OpCode.CACHE_REMOVE_KEYS,
        OpCode.CACHE_REMOVE_ALL,
        OpCode.CLUSTER_CHANGE_STATE,
        OpCode.CLUSTER_CHANGE_WAL_STATE,
    }
)


def retry_safety(op_code: int) -> RetrySafety:
    """The :class:`RetrySafety` of an operation code (unknown codes: ``CONDITIONAL``)."""
    if op_code in _READS:
        return RetrySafety.READ
    if op_code in _IDEMPOTENT:
        return RetrySafety.IDEMPOTENT
    if op_code in _WRITES:
        return RetrySafety.WRITE
    return RetrySafety.CONDITIONAL


class ResponseFlag(IntFlag):
    """Response header flags from protocol 1.4.0 (``ClientFlag``)."""

    ERROR = 0x0001
    AFFINITY_TOPOLOGY_CHANGED = 0x0002
    NOTIFICATION = 0x0004


class CacheFlag(IntFlag):
    """Flags byte of the cache-request prefix (``ClientCacheRequest``)."""

    KEEP_BINARY = 0x01
    TRANSACTIONAL = 0x02
    WITH_EXPIRY_POLICY = 0x04


class PeekMode(IntEnum):
    """Peek modes of ``CACHE_GET_SIZE`` and ``CACHE_LOCAL_PEEK``."""

    ALL = 0
    NEAR = 1
    PRIMARY = 2
    BACKUP = 3
    ONHEAP = 4
    OFFHEAP = 5


class Feature(IntEnum):
    """Bitmask feature bits negotiated from protocol 1.7.0 (``ClientBitmaskFeature``)."""

    USER_ATTRIBUTES = 0
    EXECUTE_TASK_BY_NAME = 1
    CLUSTER_STATES = 2
    CLUSTER_GROUP_GET_NODES_ENDPOINTS = 3
    CLUSTER_GROUPS = 4
    SERVICE_INVOKE = 5
    DEFAULT_QRY_TIMEOUT = 6
    QRY_PARTITIONS_BATCH_SIZE = 7
    BINARY_CONFIGURATION = 8
    GET_SERVICE_DESCRIPTORS = 9
    SERVICE_INVOKE_CALLCTX = 10
    HEARTBEAT = 11
    DATA_REPLICATION_OPERATIONS = 12
    ALL_AFFINITY_MAPPINGS = 13
    INDEX_QUERY = 14
    INDEX_QUERY_LIMIT = 15
    SERVICE_TOPOLOGY = 16
    CACHE_INVOKE = 17
    TX_AWARE_QUERIES = 18
