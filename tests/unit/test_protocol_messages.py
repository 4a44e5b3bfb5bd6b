"""Frontend message encoders and backend message parsers, checked byte for byte.

The expected bytes are written out by hand from the protocol documentation
("Message Formats" in the PostgreSQL manual), not computed by the code under test.
"""

from __future__ import annotations

import struct

import pytest

from pgwire import exceptions
from pgwire.exceptions import ProtocolError
from pgwire.protocol import messages


def test_startup_message_is_length_version_then_nul_terminated_pairs() -> None:
    data = messages.startup_message({"user": "alice", "database": "db"})

    body = b"\x00\x03\x00\x00" + b"user\x00alice\x00" + b"database\x00db\x00" + b"\x00"
    assert data == struct.pack("!i", len(body) + 4) + body


def test_startup_message_keeps_parameter_order() -> None:
    data = messages.startup_message({"b": "2", "a": "1"})

    assert data.index(b"b\x002\x00") < data.index(b"a\x001\x00")


def test_ssl_request_is_the_magic_code() -> None:
    assert messages.ssl_request() == b"\x00\x00\x00\x08\x04\xd2\x16\x2f"


def test_cancel_request_carries_pid_and_secret() -> None:
    assert messages.cancel_request(1234, -5) == (
        b"\x00\x00\x00\x10\x04\xd2\x16\x2e" + struct.pack("!ii", 1234, -5)
    )


def test_query_message_is_nul_terminated_utf8() -> None:
    assert messages.query_message("SELECT 'é'") == b"Q\x00\x00\x00\x10SELECT '\xc3\xa9'\x00"


def test_query_with_nul_character_is_refused_as_a_protocol_violation() -> None:
    with pytest.raises(exceptions.ProtocolViolationError, match="NUL character at position 8"):
        messages.query_message("SELECT '\x00'")


def test_password_message_is_nul_terminated() -> None:
    assert messages.password_message(b"secret") == b"p\x00\x00\x00\x0bsecret\x00"


def test_sasl_initial_response_has_mechanism_and_length_prefixed_data() -> None:
    data = messages.sasl_initial_response("SCRAM-SHA-256", b"n,,n=,r=abc")

    body = b"SCRAM-SHA-256\x00" + struct.pack("!i", 11) + b"n,,n=,r=abc"
    assert data == b"p" + struct.pack("!i", len(body) + 4) + body


def test_sasl_response_is_raw_data() -> None:
    assert messages.sasl_response(b"c=biws") == b"p\x00\x00\x00\x0ac=biws"


def test_parse_message_without_parameter_types() -> None:
    assert messages.parse_message("s1", "SELECT 1") == (
        b"P\x00\x00\x00\x12s1\x00SELECT 1\x00\x00\x00"
    )


def test_parse_message_with_parameter_types() -> None:
    data = messages.parse_message("", "SELECT $1", [23])

    assert data == b"P\x00\x00\x00\x15\x00SELECT $1\x00\x00\x01\x00\x00\x00\x17"


def test_describe_statement_and_portal() -> None:
    assert messages.describe_statement("s1") == b"D\x00\x00\x00\x08Ss1\x00"
    assert messages.describe_portal("") == b"D\x00\x00\x00\x06P\x00"


def test_bind_message_encodes_null_and_values_with_a_single_format_code() -> None:
    data = messages.bind_message("", "s1", [1, 1], [b"\x00\x00\x00\x07", None], [1])

    body = (
        b"\x00"  # portal
        + b"s1\x00"
        + b"\x00\x01\x00\x01"  # one parameter format code: binary
        + b"\x00\x02"
        + b"\x00\x00\x00\x04\x00\x00\x00\x07"
        + b"\xff\xff\xff\xff"  # NULL
        + b"\x00\x01\x00\x01"  # one result format code: binary
    )
    assert data == b"B" + struct.pack("!i", len(body) + 4) + body


def test_bind_message_lists_mixed_format_codes() -> None:
    data = messages.bind_message("", "", [0, 1], [b"a", b"b"], [])

    assert b"\x00\x02\x00\x00\x00\x01" in data
    assert data.endswith(b"\x00\x00")  # zero result format codes: all text


def test_execute_message_has_portal_and_row_limit() -> None:
    assert messages.execute_message("", 0) == b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00"
    assert messages.execute_message("p", 10) == b"E\x00\x00\x00\x0ap\x00\x00\x00\x00\x0a"


def test_close_messages() -> None:
    assert messages.close_statement("s1") == b"C\x00\x00\x00\x08Ss1\x00"
    assert messages.close_portal("p") == b"C\x00\x00\x00\x07Pp\x00"


def test_fixed_messages() -> None:
    assert messages.sync_message() == b"S\x00\x00\x00\x04"
    assert messages.flush_message() == b"H\x00\x00\x00\x04"
    assert messages.terminate_message() == b"X\x00\x00\x00\x04"
    assert messages.copy_done_message() == b"c\x00\x00\x00\x04"


def test_copy_data_and_copy_fail() -> None:
    assert messages.copy_data_message(b"1\t2\n") == b"d\x00\x00\x00\x081\t2\n"
    assert messages.copy_fail_message("no") == b"f\x00\x00\x00\x07no\x00"


def test_parse_error_fields_maps_codes_to_values() -> None:
    payload = b"SERROR\x00C42P01\x00Mno such table\x00\x00"

    assert messages.parse_error_fields(payload) == {
        "S": "ERROR",
        "C": "42P01",
        "M": "no such table",
    }


def test_parse_error_fields_rejects_an_unterminated_field() -> None:
    with pytest.raises(ProtocolError):
        messages.parse_error_fields(b"SERROR")


def test_parse_row_description_reads_every_column_attribute() -> None:
    payload = (
        b"\x00\x02"
        + b"id\x00"
        + struct.pack("!IhIhih", 16384, 1, 23, 4, -1, 1)
        + b"name\x00"
        + struct.pack("!IhIhih", 0, 0, 25, -1, -1, 0)
    )

    first, second = messages.parse_row_description(payload)

    assert (first.name, first.table_oid, first.column_number) == ("id", 16384, 1)
    assert (first.type_oid, first.type_size, first.type_modifier, first.format) == (23, 4, -1, 1)
    assert (second.name, second.type_oid, second.type_size, second.format) == ("name", 25, -1, 0)


def test_parse_parameter_description_reads_unsigned_oids() -> None:
    payload = b"\x00\x02\x00\x00\x00\x17\xff\xff\xff\xfe"

    assert messages.parse_parameter_description(payload) == (23, 4294967294)


def test_parse_cstring_pair() -> None:
    assert messages.parse_cstring_pair(b"TimeZone\x00UTC\x00") == ("TimeZone", "UTC")


def test_parse_cstring_pair_rejects_a_missing_terminator() -> None:
    with pytest.raises(ProtocolError):
        messages.parse_cstring_pair(b"TimeZone\x00UTC")


def test_copy_fail_reason_is_cut_to_a_length_the_server_accepts() -> None:
    message = messages.copy_fail_message("é" * 6000)
    assert message[:1] == b"f"
    assert len(message) <= 1 + 4 + messages.COPY_FAIL_REASON_LIMIT + 1
    assert message[5:-1].decode("utf-8").endswith("é...")


# ---------------------------------------------------------------- malformed and edge input


def test_error_fields_keep_an_empty_value_and_the_field_after_it() -> None:
    fields = messages.parse_error_fields(b"D\x00Mboom\x00\x00")
    assert fields == {"D": "", "M": "boom"}


def test_error_fields_replace_invalid_utf8_instead_of_failing() -> None:
    assert messages.parse_error_fields(b"Mbad \xff byte\x00\x00") == {"M": "bad \ufffd byte"}


def test_an_unterminated_error_field_is_a_protocol_error_saying_so() -> None:
    with pytest.raises(
        ProtocolError, match="^malformed error/notice message: unterminated field$"
    ):
        messages.parse_error_fields(b"Mno end")


def test_an_unterminated_column_name_is_a_protocol_error_saying_so() -> None:
    with pytest.raises(
        ProtocolError, match="^malformed RowDescription: unterminated column name$"
    ):
        messages.parse_row_description(struct.pack("!h", 1) + b"col")


def test_a_truncated_parameter_status_is_a_protocol_error_saying_so() -> None:
    with pytest.raises(ProtocolError, match="^malformed ParameterStatus message$"):
        messages.parse_cstring_pair(b"TimeZone")


def test_copy_fail_drops_nul_characters_from_the_reason() -> None:
    assert messages.copy_fail_message("a\x00b") == b"f" + struct.pack("!i", 7) + b"ab\x00"


def test_a_nul_in_a_string_sent_is_refused_naming_its_position() -> None:
    with pytest.raises(exceptions.ProtocolViolationError, match="NUL character at position 2"):
        messages._cstr("ab\x00c")
