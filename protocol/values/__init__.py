"""The Ignite binary type system: Python values <-> typed wire values (``BinaryUtils``).

``write_value``/``read_value``/``skip_value`` handle any typed value;
``write_string``/``read_string``/``write_uuid``/``read_uuid`` are the typed
String/UUID used inside protocol bodies; ``encode_binary_type`` and
``decode_binary_type`` are the OP 3003 / OP 3002 metadata bodies.
"""

from ignite_router.protocol.values.binary_type import (
    BinaryField,
    BinarySchema,
    BinaryType,
    BinaryTypeRegistry,
    decode_binary_type,
    decode_binary_type_response,
    encode_binary_type,
    encode_binary_type_response,
)
from ignite_router.protocol.values.complex import ComplexObject, UnknownSchemaError
from ignite_router.protocol.values.envelope import read_string, read_uuid, write_string, write_uuid
from ignite_router.protocol.values.object_array import ObjectArray
from ignite_router.protocol.values.raw import RawValue
from ignite_router.protocol.values.reader import MAX_DEPTH, read_value
from ignite_router.protocol.values.skip import skip_value
from ignite_router.protocol.values.writer import write_value

__all__ = [
    "MAX_DEPTH",
    "BinaryField",
    "BinarySchema",
    "BinaryType",
    "BinaryTypeRegistry",
    "ComplexObject",
    "ObjectArray",
    "RawValue",
    "UnknownSchemaError",
    "decode_binary_type",
    "decode_binary_type_response",
    "encode_binary_type",
    "encode_binary_type_response",
    "read_string",
    "read_uuid",
    "read_value",
    "skip_value",
    "write_string",
    "write_uuid",
    "write_value",
]
