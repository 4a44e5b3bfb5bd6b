"""Binary codecs for date/time types, with asyncpg's Python mappings.

Wire forms (PostgreSQL epoch 2000-01-01, integer datetimes):

* ``date``: int32 days; ``timestamp``/``timestamptz``: int64 microseconds
  (``timestamptz`` in UTC); ``time``: int64 microseconds since midnight;
  ``timetz``: that plus int32 zone offset in seconds *west* of UTC;
  ``interval``: int64 microseconds, int32 days, int32 months.

Python mappings:

* ``±infinity`` is ``date.max``/``date.min`` and ``datetime.max``/
  ``datetime.min``; for ``timestamptz`` the infinities decode to the *naive*
  ``datetime.max``/``datetime.min``, exactly as asyncpg does.
* ``timestamptz`` decodes to an aware UTC datetime. A naive datetime given
  for ``timestamptz`` is taken as local time (``datetime.astimezone``).
* ``interval`` decodes to :class:`datetime.timedelta` counting each whole
  year (12 months) as 365 days and each remaining month as 30 days, as
  asyncpg does; timedeltas encode as whole days + microseconds of the same
  sign (no months), so ``timedelta(hours=-3)`` is ``-03:00:00``.
* ``time`` drops any tzinfo on encode; ``timetz`` requires an aware time.
"""

from __future__ import annotations

import struct
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..exceptions import ValueOutOfRangeError

__all__ = [
    "date_encode",
    "date_decode",
    "timestamp_encode",
    "timestamp_decode",
    "timestamptz_encode",
    "timestamptz_decode",
    "time_encode",
    "time_decode",
    "timetz_encode",
    "timetz_decode",
    "interval_encode",
    "interval_decode",
]

_int4 = struct.Struct("!i")
_int8 = struct.Struct("!q")
_timetz = struct.Struct("!qi")
_interval = struct.Struct("!qii")

_EPOCH_ORDINAL = date(2000, 1, 1).toordinal()
_EPOCH_DATE = date(2000, 1, 1)
_EPOCH = datetime(2000, 1, 1)
_EPOCH_UTC = datetime(2000, 1, 1, tzinfo=timezone.utc)
_UTC = timezone.utc
_US_PER_DAY = 86_400_000_000

_DATE_PINF = 0x7FFFFFFF
_DATE_NINF = -0x80000000
_TS_PINF = 0x7FFFFFFFFFFFFFFF
_TS_NINF = -0x8000000000000000

_DATE_PINF_BYTES = _int4.pack(_DATE_PINF)
_DATE_NINF_BYTES = _int4.pack(_DATE_NINF)
_TS_PINF_BYTES = _int8.pack(_TS_PINF)
_TS_NINF_BYTES = _int8.pack(_TS_NINF)

_DATETIME_MAX = datetime.max
_DATETIME_MIN = datetime.min


def _type_error(expected: str, value: Any) -> TypeError:
    return TypeError(f"{expected} is required (got type {type(value).__name__})")


def date_encode(value: Any) -> bytes:
    if not isinstance(value, date):
        raise _type_error("a date", value)
    if value == date.max:
        return _DATE_PINF_BYTES
    if value == date.min:
        return _DATE_NINF_BYTES
    return _int4.pack(value.toordinal() - _EPOCH_ORDINAL)


_MIN_DAYS = date.min.toordinal() - _EPOCH_ORDINAL
_MAX_DAYS = date.max.toordinal() - _EPOCH_ORDINAL
_DATE_RANGE = "datetime.date holds 0001-01-01 to 9999-12-31"
_DATETIME_RANGE = "datetime.datetime holds 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999"
_TIMEDELTA_RANGE = "datetime.timedelta holds at most 999999999 days either way"


def _civil(days: int) -> str:
    """``'YYYY-MM-DD'`` (``' BC'`` suffixed) of ``days`` after 2000-01-01, any year.

    The proleptic Gregorian calendar, as PostgreSQL counts it (H. Hinnant's
    ``civil_from_days``; year 0 is 1 BC).
    """
    z = days + 730_425  # days from 0000-03-01 to 2000-01-01
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    if year <= 0:
        return f"{1 - year:04d}-{month:02d}-{day:02d} BC"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _stamp(micros: int) -> str:
    days, rest = divmod(micros, _US_PER_DAY)
    seconds, us = divmod(rest, 1_000_000)
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{_civil(days)} {h:02d}:{m:02d}:{s:02d}.{us:06d}".replace(".000000", "")


def date_decode(data: bytes) -> date:
    days = _int4.unpack(data)[0]
    if days == _DATE_PINF:
        return date.max
    if days == _DATE_NINF:
        return date.min
    if not _MIN_DAYS <= days <= _MAX_DAYS:
        raise ValueOutOfRangeError(f"date {_civil(days)} is out of range: {_DATE_RANGE}")
    return _EPOCH_DATE + timedelta(days=days)


def _micros(value: datetime) -> int:
    """Microseconds from the PostgreSQL epoch to the naive wall time of *value*."""
    return (
        (value.toordinal() - _EPOCH_ORDINAL) * 86_400
        + value.hour * 3600
        + value.minute * 60
        + value.second
    ) * 1_000_000 + value.microsecond


_MAX_MICROS = _micros(_DATETIME_MAX)
_MIN_MICROS = _micros(_DATETIME_MIN)


def timestamp_encode(value: Any) -> bytes:
    if not isinstance(value, datetime):
        if isinstance(value, date):
            return _int8.pack((value.toordinal() - _EPOCH_ORDINAL) * _US_PER_DAY)
        raise _type_error("a datetime", value)
    if value.tzinfo is not None:
        raise ValueError("timestamp requires a naive datetime (got a timezone-aware one)")
    if value == _DATETIME_MAX:
        return _TS_PINF_BYTES
    if value == _DATETIME_MIN:
        return _TS_NINF_BYTES
    return _int8.pack(_micros(value))


def _check_stamp(micros: int, what: str) -> None:
    if not _MIN_MICROS <= micros <= _MAX_MICROS:
        raise ValueOutOfRangeError(f"{what} {_stamp(micros)} is out of range: {_DATETIME_RANGE}")


def timestamp_decode(data: bytes) -> datetime:
    micros = _int8.unpack(data)[0]
    if micros == _TS_PINF:
        return _DATETIME_MAX
    if micros == _TS_NINF:
        return _DATETIME_MIN
    _check_stamp(micros, "timestamp")
    return _EPOCH + timedelta(microseconds=micros)


def timestamptz_encode(value: Any) -> bytes:
    if not isinstance(value, datetime):
        if isinstance(value, date):
            value = datetime(value.year, value.month, value.day)
        else:
            raise _type_error("a datetime", value)
    offset = value.utcoffset()
    if offset is None:
        if value == _DATETIME_MAX:
            return _TS_PINF_BYTES
        if value == _DATETIME_MIN:
            return _TS_NINF_BYTES
        return _int8.pack(_micros(value.astimezone(_UTC)))
    micros = _micros(value) - (offset.days * 86_400 + offset.seconds) * 1_000_000
    micros -= offset.microseconds
    if micros == _MAX_MICROS:
        return _TS_PINF_BYTES
    if micros == _MIN_MICROS:
        return _TS_NINF_BYTES
    return _int8.pack(micros)


def timestamptz_decode(data: bytes) -> datetime:
    micros = _int8.unpack(data)[0]
    if micros == _TS_PINF:
        return _DATETIME_MAX
    if micros == _TS_NINF:
        return _DATETIME_MIN
    _check_stamp(micros, "timestamptz")
    return _EPOCH_UTC + timedelta(microseconds=micros)


def _time_micros(value: time) -> int:
    return (value.hour * 3600 + value.minute * 60 + value.second) * 1_000_000 + value.microsecond


def _time_from_micros(micros: int, tz: timezone | None = None) -> time:
    seconds, us = divmod(micros, 1_000_000)
    minutes, s = divmod(seconds, 60)
    h, m = divmod(minutes, 60)
    if h == 24:
        # PostgreSQL allows 24:00:00; Python's time cannot hold it.
        raise ValueOutOfRangeError(
            "time 24:00:00 is out of range: datetime.time holds 00:00:00 to 23:59:59.999999"
        )
    return time(h, m, s, us, tz)


def time_encode(value: Any) -> bytes:
    if not isinstance(value, time):
        raise _type_error("a time", value)
    return _int8.pack(_time_micros(value))


def time_decode(data: bytes) -> time:
    return _time_from_micros(_int8.unpack(data)[0])


def timetz_encode(value: Any) -> bytes:
    if not isinstance(value, time):
        raise _type_error("a time", value)
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("timetz requires a timezone-aware time (got a naive one)")
    return _timetz.pack(_time_micros(value), -(offset.days * 86_400 + offset.seconds))


def timetz_decode(data: bytes) -> time:
    micros, zone = _timetz.unpack(data)
    return _time_from_micros(micros, timezone(timedelta(seconds=-zone)))


def interval_encode(value: Any) -> bytes:
    if not isinstance(value, timedelta):
        raise _type_error("a timedelta", value)
    # Whole days and the rest, both toward zero: timedelta(hours=-3) is sent as
    # '-03:00:00', not as timedelta's own normal form '-1 days +21:00:00' (which
    # PostgreSQL would apply as a calendar day plus 21 hours: wrong across a DST
    # change). Positive values split the same way they always did.
    total = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    days = total // _US_PER_DAY if total >= 0 else -(-total // _US_PER_DAY)
    return _interval.pack(total - days * _US_PER_DAY, days, 0)


def interval_decode(data: bytes) -> timedelta:
    micros, days, months = _interval.unpack(data)
    if months:
        # Whole years count 365 days, the remaining months 30 (asyncpg's rule),
        # splitting toward zero so -14 months is -1 year -2 months.
        years, months = divmod(months, 12) if months > 0 else (-(-months // 12), -(-months % 12))
        days += years * 365 + months * 30
    try:
        return timedelta(days=days, microseconds=micros)
    except OverflowError:
        raise ValueOutOfRangeError(
            f"interval of {_interval_text(*_interval.unpack(data))} is out of range: "
            f"{_TIMEDELTA_RANGE}"
        ) from None


def _interval_text(micros: int, days: int, months: int) -> str:
    parts = []
    years, months = divmod(months, 12) if months >= 0 else (-(-months // 12), -(-months % 12))
    for amount, unit in ((years, "years"), (months, "mons"), (days, "days")):
        if amount:
            parts.append(f"{amount} {unit}")
    if micros or not parts:
        parts.append(f"{micros / 1_000_000:g} seconds")
    return " ".join(parts)
