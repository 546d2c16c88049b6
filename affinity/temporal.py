"""Date/time <-> epoch milliseconds, with integer arithmetic only.

The wire carries Java ``Date``/``Timestamp``/``Time`` values as milliseconds
since the epoch (Ignite's binary format: ``BinaryUtils.doReadDate``). A naive
datetime is local time and a ``date`` local midnight, as Python's
``datetime.timestamp()`` and pyignite 0.6.1 take them; dates are read back as
naive local datetimes, as pyignite returns them. Sub-millisecond parts are
floored, as ``Instant.toEpochMilli`` does. The codec writes and the key hash
hashes exactly these milliseconds.
"""

from __future__ import annotations

import datetime

UTC = datetime.UTC
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime.datetime(1970, 1, 1)
_FIRST_SAFE = datetime.datetime(1, 1, 3)
_LAST_SAFE = datetime.datetime(9999, 12, 29)
_MIDNIGHT = datetime.time()
_US_PER_DAY = 86_400_000_000
_US_PER_SECOND = 1_000_000


def _timedelta_us(delta: datetime.timedelta) -> int:
    return delta.days * _US_PER_DAY + delta.seconds * _US_PER_SECOND + delta.microseconds


def datetime_epoch_us(value: datetime.datetime) -> int:
    """Microseconds since the epoch; a naive datetime is local time."""
    if value.tzinfo is None or value.utcoffset() is None:
        naive = value.replace(tzinfo=None)
        try:
            # Whole seconds via timestamp() (exact in a float): gaps and repeated hours
            # resolve as Python and pyignite resolve them.
            seconds = int(naive.replace(microsecond=0).timestamp())
        except (OverflowError, OSError, ValueError):  # the first or last days of the calendar
            return _timedelta_us(naive - _NAIVE_EPOCH) - _edge_offset_us(naive)
        return seconds * _US_PER_SECOND + value.microsecond
    return _timedelta_us(value - EPOCH)


def _edge_offset_us(naive: datetime.datetime) -> int:
    """The local zone's offset near the ends of the calendar, where timestamp() gives up."""
    probe = min(max(naive, _FIRST_SAFE), _LAST_SAFE)
    offset = probe.astimezone().utcoffset()
    return _timedelta_us(offset) if offset is not None else 0


def date_epoch_ms(value: datetime.date) -> int:
    """Milliseconds since the epoch for a ``date`` (local midnight) or ``datetime``."""
    return date_epoch_us(value) // 1000


def date_epoch_us(value: datetime.date) -> int:
    """Microseconds since the epoch for a ``date`` (local midnight) or ``datetime``."""
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, _MIDNIGHT)
    return datetime_epoch_us(value)


def time_ms(value: datetime.timedelta | datetime.time) -> int:
    """Milliseconds of a ``timedelta`` (floored) or of a ``time`` since midnight."""
    if isinstance(value, datetime.timedelta):
        return _timedelta_us(value) // 1000
    seconds = (value.hour * 60 + value.minute) * 60 + value.second
    return seconds * 1000 + value.microsecond // 1000


def datetime_from_epoch_us(micros: int) -> datetime.datetime:
    """Naive local datetime (fold set in a repeated hour, so it converts back exactly).

    Raises OverflowError outside years 1..9999 (in local time).
    """
    seconds, fraction = divmod(micros, _US_PER_SECOND)
    try:
        return datetime.datetime.fromtimestamp(seconds).replace(microsecond=fraction)
    except (OverflowError, OSError, ValueError):  # the first or last days of the calendar
        edge = _FIRST_SAFE if micros < 0 else _LAST_SAFE
        return _NAIVE_EPOCH + datetime.timedelta(microseconds=micros + _edge_offset_us(edge))
