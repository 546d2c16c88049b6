"""Date/time <-> epoch milliseconds, with integer arithmetic only.

The wire carries Java ``Date``/``Timestamp``/``Time`` values as milliseconds
(§5.1). Naive datetimes are taken as UTC (never local time); sub-millisecond
parts are floored, as ``Instant.toEpochMilli`` does. The codec writes and the
key hash hashes exactly these milliseconds.
"""

from __future__ import annotations

import datetime

UTC = datetime.UTC
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime.datetime(1970, 1, 1)
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_US_PER_DAY = 86_400_000_000
_MS_PER_DAY = 86_400_000


def _timedelta_us(delta: datetime.timedelta) -> int:
    return delta.days * _US_PER_DAY + delta.seconds * 1_000_000 + delta.microseconds


def datetime_epoch_us(value: datetime.datetime) -> int:
    """Microseconds since the epoch; naive datetimes count as UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        return _timedelta_us(value.replace(tzinfo=None) - _NAIVE_EPOCH)
    return _timedelta_us(value - EPOCH)


def date_epoch_ms(value: datetime.date) -> int:
    """Milliseconds since the epoch for a ``date`` (midnight UTC) or ``datetime``."""
    if isinstance(value, datetime.datetime):
        return datetime_epoch_us(value) // 1000
    return (value.toordinal() - _EPOCH_ORDINAL) * _MS_PER_DAY


def date_epoch_us(value: datetime.date) -> int:
    """Microseconds since the epoch for a ``date`` (midnight UTC) or ``datetime``."""
    if isinstance(value, datetime.datetime):
        return datetime_epoch_us(value)
    return (value.toordinal() - _EPOCH_ORDINAL) * _US_PER_DAY


def time_ms(value: datetime.timedelta | datetime.time) -> int:
    """Milliseconds of a ``timedelta`` (floored) or of a ``time`` since midnight."""
    if isinstance(value, datetime.timedelta):
        return _timedelta_us(value) // 1000
    seconds = (value.hour * 60 + value.minute) * 60 + value.second
    return seconds * 1000 + value.microsecond // 1000


def datetime_from_epoch_us(micros: int) -> datetime.datetime:
    """Aware UTC datetime; raises OverflowError outside years 1..9999."""
    return EPOCH + datetime.timedelta(microseconds=micros)
