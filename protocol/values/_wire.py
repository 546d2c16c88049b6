"""Precompiled little-endian layouts shared by the value codec.

Names say what follows a type-code byte (``CODE_*`` pack the code too) so the
hot paths are one ``pack``/``unpack_from`` call each.
"""

from __future__ import annotations

import struct
import sys

LITTLE_ENDIAN_HOST = sys.byteorder == "little"

# Encoders: type code + payload in one call.
CODE_I8 = struct.Struct("<Bb")
CODE_I16 = struct.Struct("<Bh")
CODE_U16 = struct.Struct("<BH")
CODE_I32 = struct.Struct("<Bi")
CODE_I64 = struct.Struct("<Bq")
CODE_F32 = struct.Struct("<Bf")
CODE_F64 = struct.Struct("<Bd")
CODE_UUID = struct.Struct("<BQQ")
CODE_I64_I32 = struct.Struct("<Bqi")
CODE_I32_I32 = struct.Struct("<Bii")
CODE_I32_I8 = struct.Struct("<Bib")

# Decoders / untyped fields.
I8 = struct.Struct("<b")
I16 = struct.Struct("<h")
U16 = struct.Struct("<H")
I32 = struct.Struct("<i")
I64 = struct.Struct("<q")
F32 = struct.Struct("<f")
F64 = struct.Struct("<d")
U64_U64 = struct.Struct("<QQ")
I64_I32 = struct.Struct("<qi")
I32_I32 = struct.Struct("<ii")
I32_I8 = struct.Struct("<ib")

# Complex object header (``GridBinaryMarshaller``): code, version, flags, type id, hash, length,
# schema id, schema (or raw-data) offset.
OBJECT_HEADER = struct.Struct("<BBhiiiii")

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
MASK64 = (1 << 64) - 1

# Bytes per element of the fixed-width primitive arrays, with the array
# module / struct letter that reads them.
PRIMITIVE_ARRAY_LAYOUT: dict[int, tuple[int, str]] = {
    13: (2, "h"),  # SHORT_ARRAY
    14: (4, "i"),  # INT_ARRAY
    15: (8, "q"),  # LONG_ARRAY
    16: (4, "f"),  # FLOAT_ARRAY
    17: (8, "d"),  # DOUBLE_ARRAY
    18: (2, "H"),  # CHAR_ARRAY (UTF-16 code units)
    19: (1, "B"),  # BOOL_ARRAY
}
