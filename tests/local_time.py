"""Run code in a chosen local time zone, for the tests of naive datetimes (local time)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

# Not UTC, a half-hour offset, and daylight saving time: naive <-> epoch conversions show.
OFF_UTC_ZONE = "America/St_Johns"


@contextlib.contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Set the process's local time zone (``TZ`` + ``time.tzset``) for the block."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()
