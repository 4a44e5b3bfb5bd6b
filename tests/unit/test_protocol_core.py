"""The sans-I/O protocol core driven by scripted server bytes: no server, no event loop.

Each test plays the server: it builds backend messages by hand (see the helpers
below), feeds them to :class:`ProtocolCore` and checks the operations' outcome
and the bytes the core wants to send.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from pgwire import exceptions
from pgwire.protocol import messages
from pgwire.protocol.core import (
    RECV_BUFFER_KEEP,
    RECV_BUFFER_SIZE,
    ConnectionState,
    ExecuteOperation,
    Operation,
    PrepareOperation,
    ProtocolCore,
    SimpleQueryOperation,
    StartupOperation,
)

# ---------------------------------------------------------------- a scripted server


def backend(tag: bytes, body: bytes = b"") -> bytes:
    return tag + struct.pack("!i", len(body) + 4) + body


def auth_ok() -> bytes:
    return backend(b"R", struct.pack("!i", 0))


def backend_key_data(pid: int, secret: int) -> bytes:
    return backend(b"K", struct.pack("!ii", pid, secret))


def parameter_status(name: str, value: str) -> bytes:
    return backend(b"S", name.encode() + b"\x00" + value.encode() + b"\x00")


def ready(status: bytes = b"I") -> bytes:
    return backend(b"Z", status)


def fields_body(fields: dict[str, str]) -> bytes:
    return b"".join(k.encode() + v.encode() + b"\x00" for k, v in fields.items()) + b"\x00"


def error_response(**fields: str) -> bytes:
    return backend(b"E", fields_body(fields))


def notice_response(**fields: str) -> bytes:
    return backend(b"N", fields_body(fields))


def notification(pid: int, channel: str, payload: str) -> bytes:
    body = struct.pack("!i", pid) + channel.encode() + b"\x00" + payload.encode() + b"\x00"
    return backend(b"A", body)


def row_description(*columns: tuple[str, int]) -> bytes:
    body = struct.pack("!h", len(columns))
    for name, oid in columns:
        body += name.encode() + b"\x00" + struct.pack("!IhIhih", 0, 0, oid, 4, -1, 1)
    return backend(b"T", body)


def data_row(*values: bytes | None) -> bytes:
    body = struct.pack("!h", len(values))
    for value in values:
        body += b"\xff\xff\xff\xff" if value is None else struct.pack("!i", len(value)) + value
    return backend(b"D", body)


def int4(value: int) -> bytes:
    return struct.pack("!i", value)


def command_complete(tag: str) -> bytes:
    return backend(b"C", tag.encode() + b"\x00")


PARSE_COMPLETE = backend(b"1")
BIND_COMPLETE = backend(b"2")
NO_DATA = backend(b"n")
EMPTY_QUERY = backend(b"I")
PORTAL_SUSPENDED = backend(b"s")


def new_core(**kwargs: object) -> ProtocolCore:
    options: dict[str, object] = {"user": "alice", "database": "shop"}
    options.update(kwargs)
    return ProtocolCore(**options)  # type: ignore[arg-type]


def ready_core() -> ProtocolCore:
    """A core past authentication, in state READY, with an empty out buffer."""
    core = new_core()
    core.startup()
    core.receive_data(auth_ok() + backend_key_data(42, 7) + ready())
    core.data_to_send()
    return core


ExecuteFactory = Callable[[], ExecuteOperation]


@pytest.fixture
def make_execute(impl: Any) -> ExecuteFactory:
    """Executions whose single int4 column ``n`` is decoded into records.

    ``impl`` (tests/unit/conftest.py) runs each test with the pure-Python and the
    compiled row loop.
    """

    def factory() -> ExecuteOperation:
        return ExecuteOperation(
            b"<bind+execute+sync>",
            decode_row=impl.decode_row,
            decoders=[lambda b: int.from_bytes(b, "big", signed=True)],
            desc=impl.record.RecordDescriptor(["n"]),
            record_class=impl.record.Record,
        )

    return factory


def rows_reply(*values: int, tag: str | None = None) -> bytes:
    rows = b"".join(data_row(int4(v)) for v in values)
    return BIND_COMPLETE + rows + command_complete(tag or f"SELECT {len(values)}") + ready()


def values(op: ExecuteOperation) -> list[int]:
    return [r["n"] for r in op.rows]


def feed_in_pieces(core: ProtocolCore, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        core.receive_data(chunk)


# ---------------------------------------------------------------- startup


def test_startup_sends_user_database_and_utf8_client_encoding() -> None:
    core = new_core(server_settings={"application_name": "app"})

    op = core.startup()

    assert isinstance(op, StartupOperation)
    assert core.data_to_send() == messages.startup_message(
        {
            "user": "alice",
            "database": "shop",
            "client_encoding": "UTF8",
            "application_name": "app",
        }
    )
    assert core.data_to_send() == b""


def test_startup_bytes_are_exact() -> None:
    core = new_core()
    core.startup()

    body = b"\x00\x03\x00\x00user\x00alice\x00database\x00shop\x00client_encoding\x00UTF8\x00\x00"
    assert core.data_to_send() == struct.pack("!i", len(body) + 4) + body


def test_startup_may_be_called_only_once() -> None:
    core = new_core()
    core.startup()

    with pytest.raises(exceptions.InterfaceError):
        core.startup()


def test_submit_before_startup_completes_is_refused() -> None:
    core = new_core()
    core.startup()

    with pytest.raises(exceptions.InterfaceError):
        core.submit(SimpleQueryOperation("SELECT 1"))


def test_trust_login_completes_at_first_ready_for_query() -> None:
    core = new_core()
    op = core.startup()
    core.data_to_send()

    core.receive_data(auth_ok())
    assert not op.done
    core.receive_data(
        backend_key_data(4242, -17)
        + parameter_status("server_version", "15.4")
        + parameter_status("TimeZone", "UTC")
        + ready()
    )

    assert op.done and op.error is None
    assert core.state is ConnectionState.READY
    assert core.is_idle()
    assert (core.backend_pid, core.backend_secret) == (4242, -17)
    assert core.parameters == {"server_version": "15.4", "TimeZone": "UTC"}
    assert core.data_to_send() == b""  # trust needs no answer


def test_ready_for_query_before_authentication_is_a_protocol_error() -> None:
    core = new_core()
    op = core.startup()

    with pytest.raises(exceptions.ProtocolError):
        core.receive_data(ready())

    assert core.state is ConnectionState.CLOSED
    assert isinstance(op.error, exceptions.ProtocolError)


def test_error_during_startup_fails_the_login_and_closes_the_core() -> None:
    core = new_core()
    op = core.startup()

    core.receive_data(
        error_response(S="FATAL", V="FATAL", C="3D000", M='database "shop" does not exist')
    )

    assert op.done
    assert isinstance(op.error, exceptions.InvalidCatalogNameError)
    assert core.state is ConnectionState.CLOSED


def test_negotiate_protocol_version_is_accepted() -> None:
    core = new_core()
    op = core.startup()
    negotiate = backend(b"v", struct.pack("!ii", 196608, 1) + b"_pq_.x\x00")

    core.receive_data(negotiate + auth_ok() + ready())

    assert op.done and op.error is None


def test_backend_key_data_after_startup_is_a_protocol_error() -> None:
    core = ready_core()

    with pytest.raises(exceptions.ProtocolError):
        core.receive_data(backend_key_data(1, 2))


def test_authentication_request_after_startup_is_a_protocol_error() -> None:
    core = ready_core()

    with pytest.raises(exceptions.ProtocolError):
        core.receive_data(auth_ok())
    assert core.state is ConnectionState.CLOSED


# ---------------------------------------------------------------- asynchronous messages


def test_parameter_status_updates_parameters_and_reaches_the_hook() -> None:
    core = ready_core()
    seen: list[tuple[str, str]] = []
    core.on_parameter_status = lambda name, value: seen.append((name, value))

    core.receive_data(parameter_status("application_name", "worker"))

    assert seen == [("application_name", "worker")]
    assert core.parameters["application_name"] == "worker"


@pytest.mark.parametrize(("status", "in_transaction"), [(b"I", "I"), (b"T", "T"), (b"E", "E")])
def test_ready_for_query_records_the_transaction_status(
    status: bytes, in_transaction: str
) -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("BEGIN"))

    core.receive_data(command_complete("BEGIN") + ready(status))

    assert op.done
    assert core.transaction_status == in_transaction


def test_ready_for_query_with_an_invalid_status_is_a_protocol_error() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("SELECT 1"))

    with pytest.raises(exceptions.ProtocolError, match="transaction status"):
        core.receive_data(ready(b"X"))
    assert isinstance(op.error, exceptions.ProtocolError)


def test_notice_reaches_the_hook_between_messages_of_an_operation() -> None:
    core = ready_core()
    notices: list[dict[str, str]] = []
    core.on_notice = notices.append
    op = core.submit(SimpleQueryOperation("DO $$ BEGIN RAISE NOTICE 'hi'; END $$"))

    core.receive_data(
        notice_response(S="NOTICE", C="00000", M="hi") + command_complete("DO") + ready()
    )

    assert notices == [{"S": "NOTICE", "C": "00000", "M": "hi"}]
    assert op.done and op.error is None and op.status == "DO"


def test_notification_reaches_the_hook_even_when_idle() -> None:
    core = ready_core()
    seen: list[tuple[int, str, str]] = []
    core.on_notification = lambda pid, channel, payload: seen.append((pid, channel, payload))

    core.receive_data(notification(99, "events", '{"id": 42}'))

    assert seen == [(99, "events", '{"id": 42}')]
    assert core.is_idle()


# ---------------------------------------------------------------- errors


ALL_ERROR_FIELDS = {
    "S": "ERROR",
    "V": "ERROR",
    "C": "23505",
    "M": 'duplicate key value violates unique constraint "users_email_key"',
    "D": "Key (email)=(a@example.com) already exists.",
    "H": "Use another email.",
    "P": "12",
    "p": "3",
    "q": "SELECT inner",
    "W": "PL/pgSQL function f() line 3",
    "s": "public",
    "t": "users",
    "c": "email",
    "d": "text",
    "n": "users_email_key",
    "F": "nbtinsert.c",
    "L": "666",
    "R": "_bt_check_unique",
}


def test_error_response_fails_the_operation_with_the_sqlstate_class_and_every_field() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("INSERT INTO users VALUES ('a@example.com')"))

    core.receive_data(error_response(**ALL_ERROR_FIELDS) + ready())

    err = op.error
    assert type(err) is exceptions.UniqueViolationError
    assert isinstance(err, exceptions.IntegrityConstraintViolationError)
    assert err.severity == "ERROR"
    assert err.severity_en == "ERROR"
    assert err.sqlstate == "23505"
    assert err.message == ALL_ERROR_FIELDS["M"]
    assert err.detail == ALL_ERROR_FIELDS["D"]
    assert err.hint == "Use another email."
    assert err.position == "12"
    assert err.internal_position == "3"
    assert err.internal_query == "SELECT inner"
    assert err.context == "PL/pgSQL function f() line 3"
    assert err.schema_name == "public"
    assert err.table_name == "users"
    assert err.column_name == "email"
    assert err.data_type_name == "text"
    assert err.constraint_name == "users_email_key"
    assert err.server_source_filename == "nbtinsert.c"
    assert err.server_source_line == "666"
    assert err.server_source_function == "_bt_check_unique"
    assert err.query == "INSERT INTO users VALUES ('a@example.com')"
    assert core.state is ConnectionState.READY and core.is_idle()


def test_error_with_an_unknown_sqlstate_is_an_unknown_postgres_error() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("SELECT 1"))

    core.receive_data(error_response(S="ERROR", C="ZZ999", M="odd") + ready())

    assert type(op.error) is exceptions.UnknownPostgresError
    assert op.error.message == "odd"


def test_error_skips_the_rest_of_the_operation_up_to_its_ready_for_query() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("SELECT 1; SELECT 1/0; SELECT 3"))

    core.receive_data(
        row_description(("a", 23))
        + data_row(int4(1))
        + command_complete("SELECT 1")
        + error_response(S="ERROR", C="22012", M="division by zero")
        + ready()
    )

    assert isinstance(op.error, exceptions.DivisionByZeroError)
    assert core.is_idle()


def test_fatal_error_fails_every_queued_operation_and_closes_the_core() -> None:
    core = ready_core()
    first = core.submit(SimpleQueryOperation("SELECT pg_sleep(10)"))
    second = core.submit(SimpleQueryOperation("SELECT 2"))

    core.receive_data(error_response(S="FATAL", V="FATAL", C="57P01", M="terminating connection"))

    assert isinstance(first.error, exceptions.ConnectionDoesNotExistError)
    assert str(first.error).endswith("in the middle of operation: terminating connection")
    assert isinstance(first.error.__cause__, exceptions.AdminShutdownError)
    assert second.done and second.error is first.error
    assert core.state is ConnectionState.CLOSED


def test_error_with_no_operation_pending_closes_the_core() -> None:
    core = ready_core()

    core.receive_data(error_response(S="FATAL", C="57P01", M="terminating connection"))

    assert core.state is ConnectionState.CLOSED
    assert isinstance(core.closed_error, exceptions.AdminShutdownError)


def test_decoder_failure_fails_only_its_operation_and_keeps_the_stream_in_step(
    make_execute: ExecuteFactory,
) -> None:
    core = ready_core()

    def broken(_: bytes) -> int:
        raise ValueError("bad bytes")

    failing = make_execute()
    failing.decoders = [broken]
    core.submit(failing)
    following = core.submit(make_execute())

    core.receive_data(rows_reply(1, 2) + rows_reply(3))

    assert isinstance(failing.error, exceptions.InternalClientError)
    assert isinstance(failing.error.__cause__, ValueError)
    assert following.error is None and values(following) == [3]


# ---------------------------------------------------------------- operations


def test_submit_appends_the_operation_messages_to_the_out_buffer() -> None:
    core = ready_core()

    core.submit(SimpleQueryOperation("SELECT 1"))
    core.submit(PrepareOperation("s1", "SELECT $1::int"))

    assert core.data_to_send() == (
        messages.query_message("SELECT 1")
        + messages.parse_message("s1", "SELECT $1::int")
        + messages.describe_statement("s1")
        + messages.SYNC
    )
    assert core.pending == 2


def test_simple_query_reports_the_last_command_tag() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("CREATE TABLE t(); INSERT INTO t DEFAULT VALUES"))

    core.receive_data(command_complete("CREATE TABLE") + command_complete("INSERT 0 1") + ready())

    assert op.status == "INSERT 0 1"


def test_simple_query_accepts_an_empty_query() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation(""))

    core.receive_data(EMPTY_QUERY + ready())

    assert op.done and op.error is None and op.status == ""


def test_simple_query_refuses_copy_from_stdin_with_copy_fail() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("COPY t FROM STDIN"))
    core.data_to_send()

    core.receive_data(backend(b"G", b"\x00\x00\x00"))

    assert core.data_to_send().startswith(b"f")
    core.receive_data(error_response(S="ERROR", C="57014", M="COPY from stdin failed") + ready())
    assert isinstance(op.error, exceptions.QueryCanceledError)


def test_prepare_learns_parameter_and_result_types() -> None:
    core = ready_core()
    op = core.submit(PrepareOperation("s1", "SELECT $1::int AS n"))

    core.receive_data(
        PARSE_COMPLETE
        + backend(b"t", b"\x00\x01\x00\x00\x00\x17")
        + row_description(("n", 23))
        + ready()
    )

    assert op.param_oids == (23,)
    assert op.fields is not None
    assert [(f.name, f.type_oid) for f in op.fields] == [("n", 23)]


def test_prepare_of_a_statement_without_result_has_no_fields() -> None:
    core = ready_core()
    op = core.submit(PrepareOperation("s1", "INSERT INTO t VALUES ($1)"))

    core.receive_data(
        PARSE_COMPLETE + backend(b"t", b"\x00\x01\x00\x00\x00\x17") + NO_DATA + ready()
    )

    assert op.fields is None and op.error is None


def test_execute_decodes_rows_into_records(make_execute: ExecuteFactory) -> None:
    core = ready_core()
    op = core.submit(make_execute())

    core.receive_data(rows_reply(7, 8))

    assert values(op) == [7, 8]
    assert all(type(r) is op.record_class for r in op.rows)
    assert op.status == "SELECT 2" and op.executed == 1


def test_execute_decodes_null_without_calling_the_decoder(make_execute: ExecuteFactory) -> None:
    core = ready_core()
    op = core.submit(make_execute())

    core.receive_data(BIND_COMPLETE + data_row(None) + command_complete("SELECT 1") + ready())

    assert op.rows[0]["n"] is None


def test_execute_with_a_row_limit_reports_a_suspended_portal(make_execute: ExecuteFactory) -> None:
    core = ready_core()
    op = core.submit(make_execute())

    core.receive_data(BIND_COMPLETE + data_row(int4(1)) + PORTAL_SUSPENDED + ready())

    assert op.suspended and values(op) == [1]


def test_execute_of_several_argument_sets_counts_every_execution() -> None:
    core = ready_core()
    op = core.submit(ExecuteOperation(b""))

    core.receive_data((BIND_COMPLETE + command_complete("INSERT 0 1")) * 3 + ready())

    assert op.executed == 3 and op.status == "INSERT 0 1" and op.rows == []


def test_callback_runs_once_when_the_operation_finishes() -> None:
    core = ready_core()
    calls: list[Operation] = []
    op = core.submit(SimpleQueryOperation("SELECT 1"))
    op.callback = calls.append

    core.receive_data(command_complete("SELECT 1") + ready())
    op.finish()

    assert calls == [op]


# ---------------------------------------------------------------- pipelining


def test_pipelined_operations_get_their_own_results_in_order(make_execute: ExecuteFactory) -> None:
    core = ready_core()
    ops = [core.submit(make_execute()) for _ in range(3)]

    core.receive_data(rows_reply(1) + rows_reply(2, 2) + rows_reply(3, 3, 3))

    assert [values(op) for op in ops] == [[1], [2, 2], [3, 3, 3]]
    assert all(op.done and op.error is None for op in ops)


def test_error_in_the_middle_of_a_pipeline_fails_only_that_operation(
    make_execute: ExecuteFactory,
) -> None:
    core = ready_core()
    first, middle, last = (core.submit(make_execute()) for _ in range(3))

    core.receive_data(
        rows_reply(1, 2)
        + error_response(S="ERROR", C="22012", M="division by zero")
        + ready()
        + rows_reply(5, 6)
    )

    assert first.error is None and values(first) == [1, 2]
    assert isinstance(middle.error, exceptions.DivisionByZeroError) and middle.rows == []
    assert last.error is None and values(last) == [5, 6]
    assert core.is_idle()


def test_operations_finish_as_their_ready_for_query_arrives(make_execute: ExecuteFactory) -> None:
    core = ready_core()
    first = core.submit(make_execute())
    second = core.submit(make_execute())

    core.receive_data(rows_reply(1))

    assert first.done and not second.done
    assert core.head is second and core.pending == 1


PIPELINE_REPLY = (
    notice_response(S="NOTICE", C="00000", M="before")
    + rows_reply(1, 2)
    + error_response(**ALL_ERROR_FIELDS)
    + ready(b"I")
    + parameter_status("application_name", "x")
    + rows_reply(3, 4, 5)
)


def run_pipeline(
    chunks: Iterable[bytes],
    make_execute: ExecuteFactory,
    feed: Callable[[ProtocolCore, Iterable[bytes]], None] = feed_in_pieces,
) -> tuple[list[object], list[str]]:
    core = ready_core()
    notices: list[str] = []
    core.on_notice = lambda fields: notices.append(fields["M"])
    ops = [core.submit(make_execute()) for _ in range(3)]
    feed(core, chunks)
    outcome: list[object] = [
        (values(op), type(op.error).__name__, getattr(op.error, "message", None)) for op in ops
    ]
    outcome.append(core.parameters.get("application_name"))
    outcome.append(core.is_idle())
    return outcome, notices


def test_a_stream_split_at_every_byte_boundary_gives_the_same_result(
    make_execute: ExecuteFactory,
) -> None:
    expected = run_pipeline([PIPELINE_REPLY], make_execute)

    for cut in range(1, len(PIPELINE_REPLY)):
        assert (
            run_pipeline([PIPELINE_REPLY[:cut], PIPELINE_REPLY[cut:]], make_execute) == expected
        ), cut


def test_a_stream_fed_one_byte_at_a_time_gives_the_same_result(
    make_execute: ExecuteFactory,
) -> None:
    expected = run_pipeline([PIPELINE_REPLY], make_execute)

    one_by_one = [PIPELINE_REPLY[i : i + 1] for i in range(len(PIPELINE_REPLY))]

    assert run_pipeline(one_by_one, make_execute) == expected


def read_into(core: ProtocolCore, data: bytes) -> None:
    """What a buffered transport does: read into get_buffer(), then buffer_updated()."""
    while data:
        space = core.get_buffer(-1)
        n = min(len(space), len(data))
        space[:n] = data[:n]
        core.buffer_updated(n)
        data = data[n:]


def read_in_pieces(core: ProtocolCore, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        read_into(core, chunk)


def test_bytes_read_into_the_buffer_give_the_same_result_as_fed_bytes(
    make_execute: ExecuteFactory,
) -> None:
    expected = run_pipeline([PIPELINE_REPLY], make_execute)
    for cut in range(1, len(PIPELINE_REPLY), 7):
        pieces = [PIPELINE_REPLY[:cut], PIPELINE_REPLY[cut:]]
        assert run_pipeline(pieces, make_execute, feed=read_in_pieces) == expected, cut


def test_get_buffer_makes_room_for_the_rest_of_a_partly_received_message() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("SELECT big"))
    big = data_row(b"x" * (3 * RECV_BUFFER_SIZE))
    core.receive_data(row_description(("big", 17)) + big[:1000])

    assert len(core.get_buffer(-1)) >= len(big) - 1000
    read_into(core, big[1000:] + command_complete("SELECT 1") + ready())
    assert op.done and op.error is None and op.status == "SELECT 1"


def test_a_grown_receive_buffer_is_given_back_once_drained() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("SELECT big"))
    big = data_row(b"x" * (2 * RECV_BUFFER_KEEP))
    read_into(core, row_description(("big", 17)) + big + command_complete("SELECT 1") + ready())

    assert op.done and op.error is None
    assert len(core.get_buffer(-1)) <= RECV_BUFFER_SIZE


def test_a_corrupt_message_length_does_not_allocate_it() -> None:
    core = ready_core()
    core.submit(SimpleQueryOperation("SELECT 1"))
    core.receive_data(b"D\x7f\xff\xff\xff")

    assert len(core.get_buffer(-1)) < 0x7FFFFFFF // 2


def test_reporting_more_bytes_than_the_buffer_offered_is_refused() -> None:
    core = ready_core()
    space = len(core.get_buffer(-1))

    with pytest.raises(ValueError, match="exceeds"):
        core.buffer_updated(space + 1)


def test_an_empty_chunk_changes_nothing(make_execute: ExecuteFactory) -> None:
    core = ready_core()
    op = core.submit(make_execute())

    core.receive_data(b"")

    assert not op.done and core.pending == 1


# ---------------------------------------------------------------- protocol violations


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(backend(b"Y", b"???"), id="unknown-message-type"),
        pytest.param(b"D\x00\x00\x00\x02", id="length-below-four"),
        pytest.param(backend(b"T", b"\x00\x01col\x00\x00"), id="truncated-row-description"),
        pytest.param(backend(b"A", b"\x00\x00"), id="truncated-notification"),
        pytest.param(backend(b"S", b"name-without-nul"), id="malformed-parameter-status"),
        pytest.param(backend(b"1") + backend(b"D", b"\x00\x00"), id="wrong-message-for-operation"),
    ],
)
def test_malformed_input_closes_the_core_and_fails_every_pending_operation(
    garbage: bytes,
) -> None:
    core = ready_core()
    ops = [core.submit(SimpleQueryOperation("SELECT 1")) for _ in range(2)]

    with pytest.raises(exceptions.ProtocolError):
        core.receive_data(garbage)

    assert core.state is ConnectionState.CLOSED
    assert all(op.done and isinstance(op.error, exceptions.ProtocolError) for op in ops)
    assert isinstance(core.closed_error, exceptions.ProtocolError)


def test_a_message_with_no_operation_pending_is_a_protocol_error() -> None:
    core = ready_core()

    with pytest.raises(exceptions.ProtocolError, match="no operation pending"):
        core.receive_data(data_row(int4(1)))
    assert core.state is ConnectionState.CLOSED


def test_a_closed_core_ignores_input_and_refuses_new_operations() -> None:
    core = ready_core()
    with pytest.raises(exceptions.ProtocolError):
        core.receive_data(backend(b"Y"))

    core.receive_data(ready())  # ignored, no error

    with pytest.raises(exceptions.ConnectionDoesNotExistError):
        core.submit(SimpleQueryOperation("SELECT 1"))


# ---------------------------------------------------------------- end of the connection


def test_connection_lost_fails_every_pending_operation(make_execute: ExecuteFactory) -> None:
    core = ready_core()
    ops = [core.submit(make_execute()) for _ in range(3)]
    core.receive_data(rows_reply(1))  # the first one completes normally
    cause = ConnectionResetError("reset by peer")

    core.connection_lost(cause)

    assert ops[0].error is None and values(ops[0]) == [1]
    for op in ops[1:]:
        assert op.done
        assert isinstance(op.error, exceptions.ConnectionDoesNotExistError)
        assert op.error.__cause__ is cause
    assert core.state is ConnectionState.CLOSED and core.pending == 0


def test_connection_lost_during_startup_fails_the_login() -> None:
    core = new_core()
    op = core.startup()

    core.connection_lost(None)

    assert op.done and isinstance(op.error, exceptions.ConnectionDoesNotExistError)


def test_terminate_flushes_pending_bytes_then_terminate_and_closes() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("SELECT 1"))

    data = core.terminate()

    assert data == messages.query_message("SELECT 1") + b"X\x00\x00\x00\x04"
    assert core.state is ConnectionState.CLOSED
    assert isinstance(op.error, exceptions.ConnectionDoesNotExistError)


# ---------------------------------------------------------------- rule 7: what never started

TERMINATE = error_response(S="FATAL", V="FATAL", C="57P01", M="terminating connection")
BIND_EXECUTE = messages.bind_message("", "", [], [], [1]) + messages.execute_message("", 0)


def execute_op(impl: Any, payload: bytes = BIND_EXECUTE + messages.SYNC) -> ExecuteOperation:
    return ExecuteOperation(
        payload,
        decode_row=impl.decode_row,
        decoders=[lambda b: int.from_bytes(b, "big", signed=True)],
        desc=impl.record.RecordDescriptor(["n"]),
        record_class=impl.record.Record,
    )


def test_fatal_before_any_reply_marks_the_operation_as_never_started(impl: Any) -> None:
    core = ready_core()
    op = core.submit(execute_op(impl))

    core.receive_data(TERMINATE)

    assert isinstance(op.error, exceptions.ConnectionClosedBeforeStartError)
    assert isinstance(op.error.__cause__, exceptions.AdminShutdownError)
    assert not op.answered


def assert_ended_by_the_server(error: BaseException | None) -> None:
    """The call's error for a session the server ended: the server's error as the cause."""
    assert type(error) is exceptions.ConnectionDoesNotExistError, repr(error)
    assert isinstance(error.__cause__, exceptions.AdminShutdownError)


def test_fatal_after_a_bind_complete_is_the_operations_own_error(impl: Any) -> None:
    core = ready_core()
    op = core.submit(execute_op(impl))

    core.receive_data(BIND_COMPLETE + TERMINATE)

    assert op.answered
    assert _lost_with_the_server_error(op.error)


def test_fatal_after_rows_is_the_operations_own_error(impl: Any) -> None:
    core = ready_core()
    op = core.submit(execute_op(impl))

    core.receive_data(BIND_COMPLETE + data_row(int4(1)) + TERMINATE)

    assert _lost_with_the_server_error(op.error)


def test_operations_queued_behind_an_answered_one_never_started(impl: Any) -> None:
    core = ready_core()
    first = core.submit(execute_op(impl))
    second = core.submit(execute_op(impl))

    core.receive_data(BIND_COMPLETE + TERMINATE)

    assert _lost_with_the_server_error(first.error)
    assert isinstance(second.error, exceptions.ConnectionClosedBeforeStartError)


def test_an_operation_after_a_completed_one_is_unanswered(impl: Any) -> None:
    core = ready_core()
    first = core.submit(execute_op(impl))
    second = core.submit(execute_op(impl))

    core.receive_data(BIND_COMPLETE + command_complete("SELECT 0") + ready() + TERMINATE)

    assert first.error is None
    assert isinstance(second.error, exceptions.ConnectionClosedBeforeStartError)


def test_parse_complete_answers_a_prepare() -> None:
    core = ready_core()
    op = core.submit(PrepareOperation("s1", "SELECT 1"))

    core.receive_data(PARSE_COMPLETE + TERMINATE)

    assert _lost_with_the_server_error(op.error)


def test_unanswered_prepare_never_started() -> None:
    core = ready_core()
    op = core.submit(PrepareOperation("s1", "SELECT 1"))

    core.receive_data(TERMINATE)

    assert isinstance(op.error, exceptions.ConnectionClosedBeforeStartError)


def test_a_simple_query_is_never_marked_as_never_started() -> None:
    core = ready_core()
    op = core.submit(SimpleQueryOperation("INSERT INTO t VALUES (1); COMMIT"))

    core.receive_data(TERMINATE)

    assert _lost_with_the_server_error(op.error)


def test_an_execute_of_an_open_portal_is_never_marked_as_never_started(impl: Any) -> None:
    # Execute alone replies only once the statement has run (or part of it).
    core = ready_core()
    op = core.submit(execute_op(impl, messages.execute_message("c1", 10) + messages.SYNC))

    core.receive_data(TERMINATE)

    assert _lost_with_the_server_error(op.error)


def test_eof_without_fatal_never_marks_an_operation_as_never_started(impl: Any) -> None:
    core = ready_core()
    op = core.submit(execute_op(impl))

    core.connection_lost(None)

    assert isinstance(op.error, exceptions.ConnectionDoesNotExistError)
    assert not isinstance(op.error, exceptions.ConnectionClosedBeforeStartError)


def test_a_non_fatal_error_answers_the_operation(impl: Any) -> None:
    core = ready_core()
    op = core.submit(execute_op(impl))

    core.receive_data(error_response(S="ERROR", V="ERROR", C="22012", M="division by zero"))

    assert op.answered


def test_submit_after_the_server_ended_the_session_names_its_reason(impl: Any) -> None:
    core = ready_core()
    core.receive_data(TERMINATE)

    with pytest.raises(exceptions.ConnectionClosedBeforeStartError) as info:
        core.submit(execute_op(impl))

    assert "terminating connection" in str(info.value)
    assert isinstance(info.value.__cause__, exceptions.AdminShutdownError)
    assert core.fatal_error is info.value.__cause__


def _lost_with_the_server_error(error: BaseException | None) -> bool:
    """An operation that may have run: the connection is gone, the server's FATAL the cause."""
    return (
        isinstance(error, exceptions.ConnectionDoesNotExistError)
        and not isinstance(error, exceptions.ConnectionClosedBeforeStartError)
        and isinstance(error.__cause__, exceptions.AdminShutdownError)
    )
