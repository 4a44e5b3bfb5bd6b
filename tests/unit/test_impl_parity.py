"""The compiled twins behave exactly like the pure-Python reference.

For every hot function the same inputs must give equal results of the same
type, or the same exception type. A missing twin is a failure, not a skip,
when the extension is built.
"""

from __future__ import annotations

import gc
import math
import os
import struct
import subprocess
import sys
import weakref
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire import _impl, exceptions
from pgwire.codecs import datetime as dt
from pgwire.codecs import json, numeric, text, uuid
from pgwire.codecs.array import make_array_codec
from pgwire.codecs.registry import Codec
from pgwire.protocol import messages, rows
from pgwire.record import Record, RecordDescriptor

Twins = dict[str, Callable[..., Any]]

#: Pure functions that must have a compiled twin: the profile's hot set.
HOT = {
    "numeric.int2_decode": numeric.int2_decode,
    "numeric.int4_decode": numeric.int4_decode,
    "numeric.int8_decode": numeric.int8_decode,
    "numeric.uint4_decode": numeric.uint4_decode,
    "numeric.uint8_decode": numeric.uint8_decode,
    "numeric.float4_decode": numeric.float4_decode,
    "numeric.float8_decode": numeric.float8_decode,
    "numeric.bool_decode": numeric.bool_decode,
    "numeric.numeric_decode": numeric.numeric_decode,
    "numeric.int2_encode": numeric.int2_encode,
    "numeric.int4_encode": numeric.int4_encode,
    "numeric.int8_encode": numeric.int8_encode,
    "numeric.float4_encode": numeric.float4_encode,
    "numeric.float8_encode": numeric.float8_encode,
    "numeric.bool_encode": numeric.bool_encode,
    "text.text_decode": text.text_decode,
    "text.text_encode": text.text_encode,
    "text.bytea_decode": text.bytea_decode,
    "text.bytea_encode": text.bytea_encode,
    "json.json_decode": json.json_decode,
    "json.json_encode": json.json_encode,
    "json.jsonb_decode": json.jsonb_decode,
    "json.jsonb_encode": json.jsonb_encode,
    "uuid.uuid_decode": uuid.uuid_decode,
    "datetime.date_decode": dt.date_decode,
    "datetime.time_decode": dt.time_decode,
    "datetime.timestamp_decode": dt.timestamp_decode,
    "datetime.timestamptz_decode": dt.timestamptz_decode,
    "datetime.interval_decode": dt.interval_decode,
    "array.make_array_codec": make_array_codec,
}


@pytest.fixture(scope="module")
def twins(compiled: ModuleType) -> dict[str, Callable[..., Any]]:
    return dict(compiled.TWINS)


def outcome(func: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """What calling ``func`` gives: ("ok", value) or ("raise", (exception type, message))."""
    try:
        return ("ok", func(*args))
    except Exception as exc:
        return ("raise", (type(exc), str(exc)))


def same_value(a: Any, b: Any) -> bool:
    """Equal values of the same type; floats also agree on NaN and on the sign of zero.

    Decimals are compared by their text (``-0``, ``0.00`` and ``NaN`` included),
    datetimes and times also by tzinfo; lists, tuples and dicts element by element.
    """
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, Decimal):
        return str(a) == str(b)
    if isinstance(a, (datetime, time)):
        return a == b and a.tzinfo == b.tzinfo
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """Both returned the same value (see :func:`same_value`) or raised alike.

    Raising alike means the same exception type with the same message.
    """
    if a[0] != b[0]:
        return False
    if a[0] == "raise":
        return bool(a[1] == b[1])
    return same_value(a[1], b[1])


def assert_parity(key: str, twins: dict[str, Callable[..., Any]], *args: Any) -> None:
    expected = outcome(HOT[key], *args)
    actual = outcome(twins[key], *args)
    assert same(expected, actual), f"{key}{args!r}: pure {expected!r}, compiled {actual!r}"


# --- the comparison itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("ok", 0.0), ("ok", -0.0)),
        (("ok", float("nan")), ("ok", 1.0)),
        (("ok", Decimal("-0")), ("ok", Decimal("0"))),
        (("ok", [0.0]), ("ok", [-0.0])),
        (("ok", 1), ("ok", True)),
        (("raise", (ValueError, "bad a")), ("raise", (ValueError, "bad b"))),
        (("raise", (ValueError, "x")), ("raise", (TypeError, "x"))),
    ],
)
def test_parity_comparison_tells_apart_signed_zeros_nan_types_and_messages(
    a: tuple[str, Any], b: tuple[str, Any]
) -> None:
    assert not same(a, b)
    assert not same(b, a)


def test_parity_comparison_accepts_nan_and_equal_messages() -> None:
    assert same(("ok", float("nan")), ("ok", float("nan")))
    assert same(("raise", (ValueError, "m")), ("raise", (ValueError, "m")))


# --- completeness ----------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(HOT))
def test_every_hot_function_has_a_compiled_twin(
    key: str, twins: dict[str, Callable[..., Any]]
) -> None:
    assert key in twins


def test_every_twin_names_a_pure_function(twins: dict[str, Callable[..., Any]]) -> None:
    assert set(twins) <= set(HOT)


def test_compiled_package_exports_every_hot_piece(compiled: ModuleType) -> None:
    for name in ("Record", "RecordDescriptor", "make_record", "decode_row", "TWINS"):
        assert hasattr(compiled, name), name


def test_the_builtin_registry_uses_the_selected_implementation() -> None:
    from pgwire.codecs import oids
    from pgwire.codecs.registry import BUILTIN

    codec = BUILTIN.get(oids.INT4)
    assert codec is not None
    assert codec.decode is _impl.codec_twin(numeric.int4_decode)


def test_text_format_types_decode_with_the_selected_text_decoder() -> None:
    from pgwire.codecs import oids
    from pgwire.codecs.registry import BUILTIN, text_fallback_codec

    regproc = BUILTIN.get(oids.REGPROC)
    assert regproc is not None and regproc.format == 0
    assert regproc.decode is _impl.codec_twin(text.text_decode)
    assert text_fallback_codec(99999).decode is _impl.codec_twin(text.text_decode)


# --- scalar decoders -----------------------------------------------------------------------

INT_PAYLOADS = [b"", b"\x00", b"\x00\x01", b"\xff\xff", b"\x80\x00\x00\x00", b"\x7f" + b"\xff" * 7]


@pytest.mark.parametrize("key", [k for k in HOT if k.startswith("numeric.") and "_decode" in k])
@pytest.mark.parametrize("payload", INT_PAYLOADS + [b"\x01", b"\x02", b"\x01\x01"])
def test_numeric_family_decoders_match_on_fixed_payloads(
    key: str, payload: bytes, twins: dict[str, Callable[..., Any]]
) -> None:
    assert_parity(key, twins, payload)


@given(st.binary(max_size=20))
def test_scalar_decoders_match_on_any_bytes(twins: Twins, payload: bytes) -> None:
    for key in HOT:
        if key.endswith("_decode") and key != "uuid.uuid_decode":
            assert_parity(key, twins, payload)


@given(st.binary(min_size=8, max_size=8))
def test_timestamp_and_time_decoders_match_on_any_8_bytes(twins: Twins, payload: bytes) -> None:
    for key in (
        "datetime.timestamp_decode",
        "datetime.timestamptz_decode",
        "datetime.time_decode",
    ):
        assert_parity(key, twins, payload)


@given(st.binary(min_size=16, max_size=16))
def test_interval_and_uuid_decoders_match_on_any_16_bytes(twins: Twins, payload: bytes) -> None:
    assert_parity("datetime.interval_decode", twins, payload)
    assert_parity("uuid.uuid_decode", twins, payload)


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_date_decoder_matches_on_any_day_number(twins: Twins, days: int) -> None:
    assert_parity("datetime.date_decode", twins, struct.pack("!i", days))


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_numeric_decoder_matches_on_encoded_decimals(twins: Twins, value: Decimal) -> None:
    payload = numeric.numeric_encode(value)
    assert_parity("numeric.numeric_decode", twins, payload)


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "-0.000",
        "1e-16383",
        "-123456789012345678901234567890.123456789",
        "9" * 300,
        "-" + "1" * 150 + "." + "2" * 150,
        "1e300",
        "0.0000000000000000000000000000001",
        "7" * 5000,  # past str(int)'s 4300-digit limit
        "-" + "3" * 100000 + "." + "4" * 16383,
    ],
)
def test_numeric_decoder_matches_on_short_and_long_values(twins: Twins, text: str) -> None:
    payload = numeric.numeric_encode(Decimal(text))
    assert_parity("numeric.numeric_decode", twins, payload)


def test_uuid_decoder_returns_an_equal_uuid(twins: dict[str, Callable[..., Any]]) -> None:
    value = UUID("12345678-1234-5678-1234-567812345678")
    assert twins["uuid.uuid_decode"](value.bytes) == value
    assert str(twins["uuid.uuid_decode"](value.bytes)) == str(value)


def test_timestamptz_decoder_returns_aware_utc(twins: dict[str, Callable[..., Any]]) -> None:
    decoded = twins["datetime.timestamptz_decode"](struct.pack("!q", 1))
    assert decoded == datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc)
    assert decoded.tzinfo is timezone.utc


# --- scalar encoders -----------------------------------------------------------------------

ENCODER_INPUTS: list[Any] = [
    0,
    1,
    -1,
    2**15,
    -(2**15) - 1,
    2**31,
    2**63,
    -(2**63) - 1,
    10**30,
    True,
    False,
    1.5,
    -0.0,
    float("inf"),
    float("nan"),
    3.5e38,
    1e308,
    Decimal("2.5"),
    "text",
    "é",
    b"bytes",
    bytearray(b"ba"),
    None,
    [1],
    object(),
]


@pytest.mark.parametrize("key", [k for k in HOT if k.endswith("_encode")])
@pytest.mark.parametrize("value", ENCODER_INPUTS, ids=repr)
def test_encoders_match_on_every_input(
    key: str, value: Any, twins: dict[str, Callable[..., Any]]
) -> None:
    assert_parity(key, twins, value)


@given(st.one_of(st.integers(), st.floats(), st.text()))
def test_encoders_match_on_generated_values(twins: Twins, value: Any) -> None:
    for key in HOT:
        if key.endswith("_encode"):
            assert_parity(key, twins, value)


# --- arrays ---------------------------------------------------------------------------------


def int4_codec(decode: Callable[[bytes], Any]) -> Codec:
    return Codec(23, "int4", numeric.int4_encode, decode)


@given(st.lists(st.lists(st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), max_size=4)))
def test_array_decoders_match_on_encoded_arrays(twins: Twins, value: list[Any]) -> None:
    pure = make_array_codec(1007, int4_codec(numeric.int4_decode), "_int4")
    compiled = twins["array.make_array_codec"](
        1007, int4_codec(twins["numeric.int4_decode"]), "_int4"
    )
    for sample in (value, value[:1], [x for row in value for x in row]):
        try:
            payload = pure.encode(sample)
        except ValueError:
            continue
        assert compiled.decode(payload) == pure.decode(payload)
        assert compiled.encode(sample) == payload


@given(st.binary(max_size=40))
def test_array_decoders_match_on_any_bytes(twins: Twins, payload: bytes) -> None:
    pure = make_array_codec(1007, int4_codec(numeric.int4_decode), "_int4")
    compiled = twins["array.make_array_codec"](
        1007, int4_codec(twins["numeric.int4_decode"]), "_int4"
    )
    assert same(outcome(pure.decode, payload), outcome(compiled.decode, payload))


def test_array_of_a_user_element_codec_calls_its_decoder(
    twins: dict[str, Callable[..., Any]],
) -> None:
    twins = twins
    element = Codec(23, "int4", numeric.int4_encode, lambda data: ("user", data))
    compiled = twins["array.make_array_codec"](1007, element, "_int4")
    payload = make_array_codec(1007, element, "_int4").encode([1])
    assert compiled.decode(payload) == [("user", b"\x00\x00\x00\x01")]


# --- the DataRow loop -----------------------------------------------------------------------


def data_row(*values: bytes | None) -> bytes:
    out = [struct.pack("!h", len(values))]
    for value in values:
        if value is None:
            out.append(struct.pack("!i", -1))
        else:
            out.append(struct.pack("!i", len(value)) + value)
    return b"".join(out)


MIXED = [
    (numeric.int4_decode, numeric.int4_encode(7)),
    (text.text_decode, "héllo".encode()),
    (dt.timestamptz_decode, dt.timestamptz_encode(datetime(2024, 5, 1, tzinfo=timezone.utc))),
    (numeric.numeric_decode, numeric.numeric_encode(Decimal("-12.3400"))),
    (numeric.float8_decode, numeric.float8_encode(2.5)),
    (numeric.bool_decode, b"\x01"),
    (text.bytea_decode, b"\x00\xff"),
    (dt.date_decode, dt.date_encode(date(1999, 12, 31))),
    (dt.interval_decode, dt.interval_encode(timedelta(days=-3, microseconds=5))),
    (uuid.uuid_decode, UUID(int=5).bytes),
    (lambda data: ("user", data), b"raw"),
    (numeric.int8_decode, None),
]


def test_decode_row_matches_the_reference(impl: Any) -> None:
    decoders = [impl.codec(decode) for decode, _ in MIXED]
    payload = data_row(*(value for _, value in MIXED))
    desc = impl.record.RecordDescriptor([f"c{i}" for i in range(len(MIXED))])
    ours = impl.decode_row(payload, decoders, desc, impl.record.Record)
    reference = rows.decode_row(
        payload, [d for d, _ in MIXED], RecordDescriptor(list(desc.names)), Record
    )
    assert list(ours.items()) == list(reference.items())
    assert [type(v) for v in ours.values()] == [type(v) for v in reference.values()]


def test_decode_row_rejects_a_wrong_column_count(impl: Any) -> None:
    desc = impl.record.RecordDescriptor(["a"])
    with pytest.raises(ValueError, match="DataRow has 2 columns, expected 1"):
        impl.decode_row(data_row(b"1", b"2"), [text.text_decode], desc, impl.record.Record)


def test_decode_row_builds_the_requested_record_subclass(impl: Any) -> None:
    class Row(impl.record.Record):  # type: ignore[name-defined,misc]
        pass

    desc = impl.record.RecordDescriptor(["a"])
    record = impl.decode_row(data_row(b"x"), [impl.codec(text.text_decode)], desc, Row)
    assert type(record) is Row
    assert record["a"] == "x"


def test_decode_row_reports_a_truncated_row(impl: Any) -> None:
    desc = impl.record.RecordDescriptor(["a"])
    with pytest.raises(struct.error):
        impl.decode_row(b"\x00\x01\x00\x00", [impl.codec(numeric.int4_decode)], desc, Record)


def test_decode_row_follows_a_changed_decoder_list(impl: Any) -> None:
    desc = impl.record.RecordDescriptor(["a"])
    payload = data_row(numeric.int4_encode(1))
    decoders: list[Any] = [impl.codec(numeric.int4_decode)]
    assert impl.decode_row(payload, decoders, desc, impl.record.Record)["a"] == 1
    decoders[0] = bytes
    assert impl.decode_row(payload, decoders, desc, impl.record.Record)["a"] == payload[6:]


def test_a_row_of_scalars_stays_out_of_the_cycle_collector(compiled: ModuleType) -> None:
    desc = compiled.RecordDescriptor(["n", "s"])
    payload = data_row(numeric.int4_encode(1), b"x")
    decoders = [_impl.codec_twin(numeric.int4_decode), _impl.codec_twin(text.text_decode)]
    record = compiled.decode_row(payload, decoders, desc, compiled.Record)
    assert not gc.is_tracked(record)
    assert record["n"] == 1 and record["s"] == "x"


def test_a_cycle_through_a_row_value_is_still_collected(compiled: ModuleType) -> None:
    desc = compiled.RecordDescriptor(["items"])

    class Items(list[Any]):
        pass

    record = compiled.decode_row(
        data_row(b"x"), [lambda data: Items([data])], desc, compiled.Record
    )
    assert gc.is_tracked(record)
    record["items"].append(record)
    alive = weakref.ref(record["items"])
    del record
    gc.collect()
    assert alive() is None


@given(st.binary(max_size=40))
def test_decode_row_decodes_array_columns_like_the_array_codec(
    twins: Twins, compiled: ModuleType, payload: bytes
) -> None:
    pure = make_array_codec(1007, int4_codec(numeric.int4_decode), "_int4")
    codec = twins["array.make_array_codec"](
        1007, int4_codec(twins["numeric.int4_decode"]), "_int4"
    )
    samples = [payload, pure.encode([1, None, 3]), pure.encode([[1, 2], [3, 4]]), pure.encode([])]
    desc = compiled.RecordDescriptor(["a"])
    for sample in samples:
        expected = outcome(pure.decode, sample)
        row = outcome(
            lambda data: compiled.decode_row(
                data_row(data), [codec.decode], desc, compiled.Record
            )["a"],
            sample,
        )
        assert same(expected, row), sample


def test_a_cycle_through_an_untracked_dict_value_is_still_collected(compiled: ModuleType) -> None:
    desc = compiled.RecordDescriptor(["doc"])
    record = compiled.decode_row(data_row(b"{}"), [lambda data: {}], desc, compiled.Record)
    assert not gc.is_tracked(record["doc"])  # CPython leaves an empty dict untracked
    assert gc.is_tracked(record)
    record["doc"]["self"] = record

    class Marker:
        pass

    marker = Marker()
    record["doc"]["marker"] = marker
    alive = weakref.ref(marker)
    del record, marker
    gc.collect()
    assert alive() is None


def test_compiled_decode_row_refuses_a_foreign_record_class(compiled: ModuleType) -> None:
    desc = compiled.RecordDescriptor(["a"])
    with pytest.raises(TypeError):
        compiled.decode_row(data_row(b"x"), [text.text_decode], desc, Record)


# --- the wire loops: Bind, binary COPY, result runs ------------------------------------------

WIRE_LOOPS = {
    "bind_execute_batch": messages.bind_execute_batch,
    "encode_copy_rows": messages.encode_copy_rows,
    "consume_results": rows.consume_results,
}

BIND_CODECS = [
    numeric.int4_encode,
    text.text_encode,
    numeric.float8_encode,
    numeric.int8_encode,
    numeric.int2_encode,
    numeric.bool_encode,
    text.bytea_encode,
    numeric.float4_encode,
]

bind_values = st.one_of(
    st.none(),
    st.integers(-(2**40), 2**40),
    st.text(),
    st.floats(),
    st.booleans(),
    st.binary(max_size=8),
    st.decimals(allow_nan=False, places=2, max_value=10**6, min_value=-(10**6)),
)


def test_every_wire_loop_has_a_compiled_twin(compiled: ModuleType) -> None:
    for name in WIRE_LOOPS:
        assert callable(getattr(compiled, name, None)), name


def encoders_of(twins: Twins, encoders: list[Callable[..., Any]]) -> list[Callable[..., Any]]:
    by_function = {pure: key for key, pure in HOT.items()}
    return [twins.get(by_function.get(e, ""), e) for e in encoders]


def bind_args(twins: Twins, compiled_encoders: bool) -> tuple[bytes, list[Any], bytes, bytes]:
    encoders = encoders_of(twins, BIND_CODECS) if compiled_encoders else list(BIND_CODECS)
    head = messages.bind_head("", "stmt", [1] * len(BIND_CODECS), len(BIND_CODECS))
    return head, encoders, messages.bind_result_formats([1, 0]), messages.execute_message("", 0)


@given(st.lists(st.tuples(*([bind_values] * len(BIND_CODECS))), max_size=3))
def test_bind_execute_batch_matches_the_reference(twins: Twins, batch: list[tuple[Any]]) -> None:
    compiled = twins_loop("bind_execute_batch")
    for compiled_encoders in (True, False):
        head, encoders, tail, execute = bind_args(twins, compiled_encoders)
        expected = outcome(messages.bind_execute_batch, head, encoders, batch, tail, execute)
        actual = outcome(compiled, head, encoders, batch, tail, execute)
        assert same(expected, actual), (batch, expected, actual)


def test_bind_execute_batch_builds_bind_then_execute_per_row(twins: Twins) -> None:
    head, encoders, tail, execute = bind_args(twins, True)
    row = (1, "é", 2.5, None, -3, True, b"\x00", 1.5)
    params = [None if v is None else e(v) for e, v in zip(encoders, row, strict=True)]
    one = messages.bind_message("", "stmt", [1] * 8, params, [1, 0]) + execute
    for loop in (messages.bind_execute_batch, twins_loop("bind_execute_batch")):
        assert loop(head, encoders, [row, list(row)], tail, execute) == one + one


@pytest.mark.parametrize(
    "rows_",
    [[(1,)], [("x", 1, 2.0, None, 1, True, b"", 1.0)], [object()], ["abc"]],
    ids=["short", "wrong-type", "not-a-sequence", "a-string"],
)
def test_bind_execute_batch_rejects_bad_rows_alike(twins: Twins, rows_: list[Any]) -> None:
    head, encoders, tail, execute = bind_args(twins, True)
    expected = outcome(messages.bind_execute_batch, head, encoders, rows_, tail, execute)
    assert expected[0] == "raise"
    assert same(
        expected, outcome(twins_loop("bind_execute_batch"), head, encoders, rows_, tail, execute)
    )


def copy_outcome(
    loop: Callable[..., Any], encoders: list[Any], records: list[Any], limit: int
) -> Any:
    out = bytearray(b"head")
    it = iter(records)
    try:
        result = loop(encoders, it, out, limit)
    except messages.RowEncodeError as exc:
        cause = exc.__cause__
        return ("raise", exc.row, exc.column, repr(exc.value), type(cause), str(cause), bytes(out))
    return ("ok", result, bytes(out), list(it))


@given(
    st.lists(st.tuples(*([bind_values] * len(BIND_CODECS))), max_size=4),
    st.sampled_from([0, 1, 40]),
)
def test_encode_copy_rows_matches_the_reference(
    twins: Twins, records: list[tuple[Any]], limit: int
) -> None:
    for encoders in (encoders_of(twins, BIND_CODECS), list(BIND_CODECS)):
        expected = copy_outcome(messages.encode_copy_rows, encoders, records, limit)
        actual = copy_outcome(twins_loop("encode_copy_rows"), encoders, records, limit)
        assert expected == actual


@pytest.mark.parametrize(
    "records",
    [[(1, "a"), (2,)], [(1, "a"), [2, 3]], [(1, "a"), range(2)], [(1, "a"), "ab"]],
    ids=["short-record", "bad-value", "any-sequence", "a-string"],
)
def test_encode_copy_rows_reports_the_failing_record_alike(
    twins: Twins, records: list[Any]
) -> None:
    encoders = encoders_of(twins, [numeric.int4_encode, text.text_encode])
    expected = copy_outcome(messages.encode_copy_rows, encoders, records, 0)
    assert expected == copy_outcome(twins_loop("encode_copy_rows"), encoders, records, 0)


def twins_loop(name: str) -> Callable[..., Any]:
    import pgwire._speedups as compiled

    return getattr(compiled, name)  # type: ignore[no-any-return]


def message(tag: bytes, body: bytes) -> bytes:
    return tag + struct.pack("!i", len(body) + 4) + body


RESULT_STREAM = b"".join(
    [
        message(b"2", b""),
        *(
            message(b"D", data_row(numeric.int4_encode(i), f"row {i}".encode(), None))
            for i in range(5)
        ),
        message(b"C", b"SELECT 5\x00"),
        message(b"2", b""),
        message(b"D", data_row(numeric.int4_encode(9), b"x", b"\x01")),
        message(b"C", b"SELECT 1\x00"),
        message(b"Z", b"I"),
    ]
)


def result_op(impl: Any, *, keep_rows: bool = True, third: Any = None) -> Any:
    from pgwire.protocol.core import ExecuteOperation

    return ExecuteOperation(
        b"",
        decode_row=impl.decode_row,
        decoders=[
            impl.codec(numeric.int4_decode),
            impl.codec(text.text_decode),
            third or impl.codec(numeric.bool_decode),
        ],
        desc=impl.record.RecordDescriptor(["a", "b", "c"]),
        record_class=impl.record.Record,
        keep_rows=keep_rows,
    )


def consume(impl: Any, op: Any, stream: bytes, cuts: tuple[int, ...] = ()) -> tuple[Any, ...]:
    loop = twins_loop("consume_results") if impl.name == "compiled" else rows.consume_results
    buf = bytearray()
    pos = 0
    for piece in (stream[a:b] for a, b in zip((0, *cuts), (*cuts, len(stream)), strict=True)):
        buf += piece
        pos = loop(buf, pos, len(buf), op)
    rows_ = [tuple(r.values()) for r in op.rows]
    return pos, rows_, op.status, op.executed, type(op.error)


def test_consume_results_stops_at_the_first_other_message(impl: Any) -> None:
    pos, rows_, status, executed, error = consume(impl, result_op(impl), RESULT_STREAM)
    assert RESULT_STREAM[pos : pos + 1] == b"Z"
    assert rows_ == [(i, f"row {i}", None) for i in range(5)] + [(9, "x", True)]
    assert (status, executed, error) == ("SELECT 1", 2, type(None))


@given(st.lists(st.integers(0, len(RESULT_STREAM)), max_size=4))
def test_consume_results_gives_the_same_result_for_split_buffers(
    both: list[Any], cuts: list[int]
) -> None:
    whole = None
    for impl in both:
        result = consume(impl, result_op(impl), RESULT_STREAM, tuple(sorted(cuts)))
        whole = whole or result
        assert result == whole


def test_consume_results_records_a_decode_failure_like_the_reference(both: list[Any]) -> None:
    def failing(data: bytes) -> Any:
        if data == b"\x01":
            raise ValueError("bad")
        return data

    outcomes = [consume(impl, result_op(impl, third=failing), RESULT_STREAM) for impl in both]
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][4] is exceptions.InternalClientError


def test_consume_results_skips_rows_nobody_keeps(impl: Any) -> None:
    pos, rows_, status, executed, _ = consume(
        impl, result_op(impl, keep_rows=False), RESULT_STREAM
    )
    assert (rows_, status, executed) == ([], "SELECT 1", 2)
    assert RESULT_STREAM[pos : pos + 1] == b"Z"


def test_consume_results_ignores_bytes_past_the_end_it_is_given(impl: Any) -> None:
    loop = twins_loop("consume_results") if impl.name == "compiled" else rows.consume_results
    bind_complete = message(b"2", b"")
    complete = message(b"C", b"SELECT 1\x00")
    buf = bytearray(bind_complete + complete)
    op = result_op(impl)
    assert loop(buf, 0, len(buf) - 1, op) == len(bind_complete)
    assert (op.executed, op.status) == (0, "")


def test_consume_results_leaves_an_invalid_length_to_the_framing_loop(impl: Any) -> None:
    stream = message(b"2", b"") + b"D\x00\x00\x00\x02" + b"\x00" * 8
    assert consume(impl, result_op(impl), stream)[0] == 5


@pytest.fixture(scope="module")
def both(compiled: ModuleType) -> list[Any]:
    """The pure and the compiled implementation, for tests that compare them directly."""
    import importlib

    conftest = importlib.import_module("conftest")
    return [conftest.load_implementation(name) for name in ("python", "compiled")]


# --- selection -------------------------------------------------------------------------------


def selected_impl(**env: str) -> str:
    code = "import pgwire, pgwire._impl as i; print(i.IMPL, pgwire.Record is i.Record)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]


def test_pgwire_impl_python_selects_the_reference() -> None:
    assert selected_impl(PGWIRE_IMPL="python", PGWIRE_REQUIRE_COMPILED="") == "python True"


def test_pgwire_impl_compiled_selects_the_extension(compiled: ModuleType) -> None:
    assert selected_impl(PGWIRE_IMPL="compiled", PGWIRE_REQUIRE_COMPILED="1") == "compiled True"


def test_an_unknown_pgwire_impl_is_an_import_error() -> None:
    assert "PGWIRE_IMPL must be" in selected_impl(PGWIRE_IMPL="fast")


def test_pgwire_record_module_keeps_the_pure_class() -> None:
    import pgwire.record

    assert pgwire.record.Record.__module__ == "pgwire.record"
