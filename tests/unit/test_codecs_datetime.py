"""Binary codecs for date, time, timetz, timestamp, timestamptz and interval.

Golden bytes come from the server's ``*_send`` functions (PostgreSQL 15);
the Python mappings follow asyncpg.
"""

from __future__ import annotations

import os
import time as _time
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.codecs import datetime as d

UTC = timezone.utc
PLUS3 = timezone(timedelta(hours=3))

DATE_GOLDEN = [
    (date(2000, 1, 1), b"\x00\x00\x00\x00"),
    (date(1999, 12, 31), b"\xff\xff\xff\xff"),
    (date(2024, 2, 29), b'\x00\x00"y'),
    (date.max, b"\x7f\xff\xff\xff"),
    (date.min, b"\x80\x00\x00\x00"),
]


@pytest.mark.parametrize(("value", "wire"), DATE_GOLDEN)
def test_date_golden_bytes(value: date, wire: bytes) -> None:
    assert d.date_encode(value) == wire
    assert d.date_decode(wire) == value


def test_date_encoder_accepts_datetime_by_dropping_time() -> None:
    assert d.date_decode(d.date_encode(datetime(2000, 1, 1, 5))) == date(2000, 1, 1)


def test_date_rejects_str() -> None:
    with pytest.raises(TypeError, match=r"a date is required \(got type str\)"):
        d.date_encode("2000-01-01")


TIMESTAMP_GOLDEN = [
    (datetime(2000, 1, 1, 0, 0, 1), b"\x00\x00\x00\x00\x00\x0fB@"),
    (datetime(1970, 1, 1), b"\xff\xfc\xa2\xfe\xc4\xc8 \x00"),
    (datetime(2024, 2, 29, 12, 34, 56, 789012), b"\x00\x02\xb5\x83Ar\x86\x14"),
    (datetime.max, b"\x7f\xff\xff\xff\xff\xff\xff\xff"),
    (datetime.min, b"\x80\x00\x00\x00\x00\x00\x00\x00"),
]


@pytest.mark.parametrize(("value", "wire"), TIMESTAMP_GOLDEN)
def test_timestamp_golden_bytes(value: datetime, wire: bytes) -> None:
    assert d.timestamp_encode(value) == wire
    assert d.timestamp_decode(wire) == value


def test_timestamp_rejects_aware_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        d.timestamp_encode(datetime(2000, 1, 1, tzinfo=UTC))


def test_timestamp_accepts_date_as_midnight() -> None:
    assert d.timestamp_decode(d.timestamp_encode(date(2000, 1, 2))) == datetime(2000, 1, 2)


def test_timestamptz_golden_bytes() -> None:
    value = datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=PLUS3)
    wire = b"\x00\x02\xb5\x80\xbd\xb7\x9a\x14"
    assert d.timestamptz_encode(value) == wire
    assert d.timestamptz_decode(wire) == value


def test_timestamptz_decodes_to_aware_utc() -> None:
    decoded = d.timestamptz_decode(b"\x00\x00\x00\x00\x00\x0fB@")
    assert decoded == datetime(2000, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert decoded.tzinfo is UTC


def test_timestamptz_infinities_decode_to_naive_extremes_like_asyncpg() -> None:
    assert d.timestamptz_decode(b"\x7f\xff\xff\xff\xff\xff\xff\xff") == datetime.max
    assert d.timestamptz_decode(b"\x80\x00\x00\x00\x00\x00\x00\x00") == datetime.min


def test_timestamptz_encodes_extremes_as_infinities() -> None:
    assert d.timestamptz_encode(datetime.max) == b"\x7f\xff\xff\xff\xff\xff\xff\xff"
    assert d.timestamptz_encode(datetime.max.replace(tzinfo=UTC)) == d.timestamptz_encode(
        datetime.max
    )
    assert d.timestamptz_encode(datetime.min) == b"\x80\x00\x00\x00\x00\x00\x00\x00"


@pytest.fixture
def new_york_local_time():  # type: ignore[no-untyped-def]
    if not hasattr(_time, "tzset"):
        pytest.skip("needs time.tzset")
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    _time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    _time.tzset()


@pytest.mark.usefixtures("new_york_local_time")
def test_timestamptz_treats_naive_datetime_as_local_time() -> None:
    wire = d.timestamptz_encode(datetime(2000, 1, 1, 12))
    assert d.timestamptz_decode(wire) == datetime(2000, 1, 1, 17, tzinfo=UTC)


def test_time_golden_bytes() -> None:
    assert d.time_encode(time(12, 34, 56, 789012)) == b"\x00\x00\x00\n\x8b\xe6&\x14"
    assert d.time_decode(b"\x00\x00\x00\n\x8b\xe6&\x14") == time(12, 34, 56, 789012)
    assert d.time_decode(b"\x00" * 8) == time(0)


def test_time_encoder_ignores_tzinfo() -> None:
    assert d.time_encode(time(1, 2, tzinfo=PLUS3)) == d.time_encode(time(1, 2))


def test_time_24_00_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="24:00:00"):
        d.time_decode((86_400_000_000).to_bytes(8, "big"))


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (time(12, tzinfo=PLUS3), b"\x00\x00\x00\n\x0e\xeb\xb0\x00\xff\xff\xd5\xd0"),
        (
            time(12, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
            b"\x00\x00\x00\n\x0e\xeb\xb0\x00\x00\x00MX",
        ),
    ],
)
def test_timetz_golden_bytes(value: time, wire: bytes) -> None:
    assert d.timetz_encode(value) == wire
    decoded = d.timetz_decode(wire)
    assert decoded == value
    assert decoded.utcoffset() == value.utcoffset()


def test_timetz_requires_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        d.timetz_encode(time(1, 2))


def test_interval_golden_bytes() -> None:
    # '1 day 00:00:01': whole days, then microseconds
    wire = b"\x00\x00\x00\x00\x00\x0fB@\x00\x00\x00\x01\x00\x00\x00\x00"
    assert d.interval_encode(timedelta(days=1, seconds=1)) == wire


def test_negative_timedelta_encodes_with_days_and_time_of_the_same_sign() -> None:
    # timedelta(hours=-3) is days=-1, seconds=75600 in Python's normal form; the
    # server must see '-03:00:00', not '-1 days +21:00:00'.
    assert d.interval_encode(timedelta(hours=-3)) == d._interval.pack(-3 * 3600 * 10**6, 0, 0)
    assert d.interval_encode(timedelta(days=-1, seconds=1)) == d._interval.pack(
        -86_399 * 10**6, 0, 0
    )
    assert d.interval_encode(timedelta(hours=-25)) == d._interval.pack(-3600 * 10**6, -1, 0)


@given(st.timedeltas(min_value=timedelta(days=-(10**6)), max_value=timedelta(days=10**6)))
def test_interval_round_trips_any_timedelta(value: timedelta) -> None:
    assert d.interval_decode(d.interval_encode(value)) == value


def test_date_beyond_year_9999_names_the_date_and_the_range() -> None:
    wire = d._int4.pack(date(9999, 12, 31).toordinal() - date(2000, 1, 1).toordinal() + 1)
    with pytest.raises(OverflowError, match=r"date 10000-01-01 is out of range.*9999-12-31"):
        d.date_decode(wire)


def test_bc_timestamp_names_the_value_and_the_range() -> None:
    micros = (date(1, 1, 1).toordinal() - date(2000, 1, 1).toordinal() - 366) * 86_400 * 10**6
    with pytest.raises(OverflowError, match=r"timestamp 0001-01-01 BC 00:00:00 is out of range"):
        d.timestamp_decode(d._int8.pack(micros))


def test_interval_beyond_timedelta_names_the_interval_and_the_range() -> None:
    with pytest.raises(OverflowError, match=r"interval of 178000000 years is out of range"):
        d.interval_decode(d._interval.pack(0, 0, 178_000_000 * 12))


def test_interval_counts_a_month_as_30_days() -> None:
    # '1 mon -1 day 00:00:01'
    wire = b"\x00\x00\x00\x00\x00\x0fB@\xff\xff\xff\xff\x00\x00\x00\x01"
    assert d.interval_decode(wire) == timedelta(days=29, seconds=1)


def test_interval_counts_a_year_as_365_days_like_asyncpg() -> None:
    # '1 year 2 mons 3 days 04:05:06.7': 14 months = 365 + 2 * 30 days
    wire = b"\x00\x00\x00\x03l\x96n\xe0\x00\x00\x00\x03\x00\x00\x00\x0e"
    assert d.interval_decode(wire) == timedelta(days=428, hours=4, minutes=5, seconds=6.7)


def test_negative_months_split_toward_zero() -> None:
    wire = d._interval.pack(0, 0, -14)
    assert d.interval_decode(wire) == timedelta(days=-(365 + 60))


def test_negative_microsecond_interval() -> None:
    wire = b"\xff" * 8 + b"\x00" * 8
    assert d.interval_decode(wire) == timedelta(microseconds=-1)
    assert d.interval_decode(d.interval_encode(timedelta(microseconds=-1))) == timedelta(
        microseconds=-1
    )


def test_interval_rejects_int() -> None:
    with pytest.raises(TypeError, match="a timedelta is required"):
        d.interval_encode(5)


@given(st.dates())
def test_date_round_trips(value: date) -> None:
    assert d.date_decode(d.date_encode(value)) == value


@given(st.datetimes())
def test_timestamp_round_trips_to_the_microsecond(value: datetime) -> None:
    assert d.timestamp_decode(d.timestamp_encode(value)) == value


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, PLUS3, timezone(timedelta(hours=-9, minutes=-30))]),
    )
)
def test_timestamptz_round_trips_instant(value: datetime) -> None:
    assert d.timestamptz_decode(d.timestamptz_encode(value)) == value


@given(st.times())
def test_time_round_trips(value: time) -> None:
    assert d.time_decode(d.time_encode(value)) == value


@given(st.times(), st.integers(-15 * 3600, 15 * 3600))
def test_timetz_round_trips(value: time, offset: int) -> None:
    aware = value.replace(tzinfo=timezone(timedelta(seconds=offset)))
    assert d.timetz_decode(d.timetz_encode(aware)).utcoffset() == timedelta(seconds=offset)
    assert d.timetz_decode(d.timetz_encode(aware)) == aware


@given(st.timedeltas())
def test_interval_round_trips(value: timedelta) -> None:
    assert d.interval_decode(d.interval_encode(value)) == value


@pytest.mark.parametrize("encode", [d.timestamp_encode, d.timestamptz_encode])
def test_timestamp_encoders_name_the_wrong_type(encode) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=r"^a datetime is required \(got type str\)$"):
        encode("2020-01-01")


def test_timestamp_refuses_an_aware_datetime_saying_why() -> None:
    with pytest.raises(ValueError, match="timestamp requires a naive datetime"):
        d.timestamp_encode(datetime(2020, 1, 1, tzinfo=timezone.utc))


def test_timestamptz_encodes_a_date_as_its_midnight() -> None:
    assert d.timestamptz_encode(date(2020, 1, 2)) == d.timestamptz_encode(datetime(2020, 1, 2))


def test_timestamptz_keeps_the_microseconds_of_an_offset() -> None:
    zone = timezone(timedelta(hours=1, seconds=1, microseconds=7))
    value = datetime(2020, 1, 1, 12, 0, 0, 500, tzinfo=zone)
    assert d.timestamptz_decode(d.timestamptz_encode(value)) == value
