"""The sans-I/O core fed random and mutated backend byte streams.

The streams are mutations of a realistic session (startup, simple query, prepare,
pipelined executions with rows, an error, a notice, a notification, COPY TO) built
message by message as PostgreSQL 15 sends them. For every input the core either
processes it (possibly waiting for more bytes) or raises :class:`ProtocolError` and
closes, failing every queued operation. It never raises anything else, never loops,
and with the bytes merely re-chunked it delivers every row to the operation it
belongs to.

``PGWIRE_FUZZ_EXAMPLES`` raises the number of hypothesis examples (the stress command
``python tests/stress/run.py fuzz`` runs millions of plain random mutations).
"""

from __future__ import annotations

import os
import random
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgwire import exceptions
from pgwire.protocol.copy import CopyOutOperation
from pgwire.protocol.core import (
    ConnectionState,
    ExecuteOperation,
    Operation,
    PrepareOperation,
    ProtocolCore,
    SimpleQueryOperation,
)

EXAMPLES = int(os.environ.get("PGWIRE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ------------------------------------------------------------------ a recorded session


def msg(tag: bytes, body: bytes = b"") -> bytes:
    return tag + struct.pack("!i", len(body) + 4) + body


def cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def data_row(*values: bytes | None) -> bytes:
    body = struct.pack("!h", len(values))
    for v in values:
        body += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
    return msg(b"D", body)


def row_description(*names: str) -> bytes:
    body = struct.pack("!h", len(names))
    for name in names:
        body += cstr(name) + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0)
    return msg(b"T", body)


def ready(status: bytes = b"I") -> bytes:
    return msg(b"Z", status)


def complete(tag: str) -> bytes:
    return msg(b"C", cstr(tag))


def error_fields(severity: str, code: str, text: str) -> bytes:
    fields = [b"S" + cstr(severity), b"V" + cstr(severity), b"C" + cstr(code), b"M" + cstr(text)]
    return b"".join(fields) + b"\0"


STARTUP = b"".join(
    [
        msg(b"R", struct.pack("!i", 0)),
        *(
            msg(b"S", cstr(k) + cstr(v))
            for k, v in [
                ("application_name", ""),
                ("client_encoding", "UTF8"),
                ("DateStyle", "ISO, MDY"),
                ("integer_datetimes", "on"),
                ("server_encoding", "UTF8"),
                ("server_version", "15.6"),
                ("standard_conforming_strings", "on"),
                ("TimeZone", "UTC"),
            ]
        ),
        msg(b"K", struct.pack("!ii", 4242, 1234567)),
        ready(),
    ]
)

ROWS_PER_EXECUTE = 3


def execute_reply(op_index: int) -> bytes:
    rows = [data_row(f"op{op_index}:row{r}".encode()) for r in range(ROWS_PER_EXECUTE)]
    return b"".join([msg(b"2"), *rows, complete(f"SELECT {ROWS_PER_EXECUTE}"), ready()])


def session_replies() -> list[bytes]:
    """The reply of each operation of :func:`session_operations`, in order."""
    return [
        # SELECT 1 (simple query), with a notice and a notification mixed in
        row_description("?column?")
        + msg(b"N", error_fields("NOTICE", "00000", "hello"))
        + data_row(b"1")
        + msg(b"A", struct.pack("!i", 99) + cstr("chan") + cstr("payload"))
        + complete("SELECT 1")
        + ready(),
        # Prepare: Parse + Describe(statement)
        msg(b"1") + msg(b"t", struct.pack("!hi", 1, 23)) + row_description("v") + ready(),
        execute_reply(2),
        execute_reply(3),
        # an execution that fails: the server skips to Sync
        msg(b"E", error_fields("ERROR", "22012", "division by zero")) + ready(),
        execute_reply(5),
        # COPY (SELECT ...) TO STDOUT
        msg(b"H", b"\0" + struct.pack("!hh", 1, 0))
        + msg(b"d", b"1\tx\n")
        + msg(b"d", b"2\ty\n")
        + msg(b"c")
        + complete("COPY 2")
        + ready(),
        execute_reply(7),
    ]


RowLog = list[tuple[int, bytes]]


def recording_decoder(op_index: int, log: RowLog) -> Callable[..., Any]:
    def decode(payload: bytes, *_: Any) -> bytes:
        log.append((op_index, payload))
        return payload

    return decode


def session_operations(log: RowLog) -> list[Operation]:
    def execute(i: int) -> ExecuteOperation:
        return ExecuteOperation(b"", decode_row=recording_decoder(i, log))

    return [
        SimpleQueryOperation("SELECT 1"),
        PrepareOperation("s1", "SELECT $1::int"),
        execute(2),
        execute(3),
        execute(4),
        execute(5),
        CopyOutOperation("COPY (SELECT 1) TO STDOUT"),
        execute(7),
    ]


SESSION = b"".join(session_replies())


def ready_core() -> ProtocolCore:
    core = ProtocolCore(user="postgres", database="postgres")
    core.startup()
    core.receive_data(STARTUP)
    assert core.state is ConnectionState.READY
    return core


# ------------------------------------------------------------------ mutations


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: flip, set, insert, delete, duplicate a span, truncate."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out += bytes([rng.randrange(256)])
            continue
        at = rng.randrange(len(out))
        kind = rng.randrange(7)
        if kind == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            out[at] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif kind == 2:
            out.insert(at, rng.randrange(256))
        elif kind == 3:
            del out[at : at + rng.randint(1, 8)]
        elif kind == 4:
            span = out[at : at + rng.randint(1, 16)]
            out[at:at] = span
        elif kind == 5:
            del out[at:]
        else:
            # a length field of a random message set to an extreme value
            out[at : at + 4] = struct.pack("!i", rng.choice([0, 3, 4, 5, 2**31 - 1, -1, 1 << 20]))
    return bytes(out)


def chunks(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 12))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


# ------------------------------------------------------------------ the contract


def feed(core: ProtocolCore, pieces: list[bytes]) -> exceptions.ProtocolError | None:
    """Feed every piece; the only exception allowed out of the core is ProtocolError."""
    for piece in pieces:
        try:
            core.receive_data(piece)
        except exceptions.ProtocolError as exc:
            return exc
    return None


def check_contract(core: ProtocolCore, ops: list[Operation], error: BaseException | None) -> None:
    if error is not None:
        assert core.state is ConnectionState.CLOSED
    if core.state is ConnectionState.CLOSED:
        # Closed (protocol error, or a FATAL the server sent): nothing waits any more.
        assert all(op.done for op in ops)
        assert all(op.error is not None for op in ops if op.tx_status == "")
        assert core.pending == 0
    # Operations complete in order: never a later one before an earlier one.
    done = [op.done for op in ops]
    assert done == sorted(done, reverse=True)


def run_session(data: bytes, rng: random.Random) -> tuple[ProtocolCore, list[Operation], RowLog]:
    core = ready_core()
    log: RowLog = []
    ops = session_operations(log)
    for op in ops:
        core.submit(op)
    error = feed(core, chunks(data, rng) if data else [])
    check_contract(core, ops, error)
    return core, ops, log


def run_startup(data: bytes, rng: random.Random) -> ProtocolCore:
    core = ProtocolCore(user="postgres", database="postgres", password="secret")
    op = core.startup()
    error = feed(core, chunks(data, rng) if data else [])
    if error is not None or core.state is ConnectionState.CLOSED:
        # Failed, unless its ReadyForQuery arrived before the garbage did.
        assert op.done and (op.error is not None or op.tx_status != "")
    elif core.state is ConnectionState.READY:
        assert op.done
    return core


# ------------------------------------------------------------------ tests


def test_the_unmutated_session_delivers_every_row_to_its_own_operation() -> None:
    core, ops, log = run_session(SESSION, random.Random(0))
    assert all(op.done for op in ops) and core.is_idle()
    expected = [
        (i, struct.pack("!hi", 1, len(v)) + v)
        for i in (2, 3, 5, 7)
        for v in (f"op{i}:row{r}".encode() for r in range(ROWS_PER_EXECUTE))
    ]
    assert log == expected
    assert isinstance(ops[4].error, exceptions.DivisionByZeroError)


@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_rechunking_never_changes_which_operation_gets_which_row(seed: int) -> None:
    rng = random.Random(seed)
    core, ops, log = run_session(SESSION, rng)
    _, _, expected = run_session(SESSION, random.Random(0))
    assert log == expected
    assert core.is_idle()


@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_sessions_raise_only_protocol_errors_and_close_cleanly(seed: int) -> None:
    rng = random.Random(seed)
    run_session(mutate(SESSION, rng), rng)


@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_startups_raise_only_protocol_errors(seed: int) -> None:
    rng = random.Random(seed)
    run_startup(mutate(STARTUP, rng), rng)


@FUZZ
@given(data=st.binary(max_size=512), seed=st.integers(0, 2**16))
def test_arbitrary_bytes_in_a_session_raise_only_protocol_errors(data: bytes, seed: int) -> None:
    run_session(data, random.Random(seed))


@FUZZ
@given(data=st.binary(max_size=512), seed=st.integers(0, 2**16))
def test_arbitrary_bytes_at_startup_raise_only_protocol_errors(data: bytes, seed: int) -> None:
    run_startup(data, random.Random(seed))


@FUZZ
@given(
    tag=st.sampled_from(b"DCZ21TtnE3sINASdcGHRKv"),
    body=st.binary(max_size=64),
    seed=st.integers(0, 2**16),
)
def test_any_well_framed_message_with_a_random_body_raises_only_protocol_errors(
    tag: int, body: bytes, seed: int
) -> None:
    """Framing intact, body garbage: every message parser must fail as ProtocolError."""
    replies = session_replies()
    at = random.Random(seed).randrange(len(replies) + 1)
    data = b"".join(replies[:at]) + msg(bytes([tag]), body) + b"".join(replies[at:])
    run_session(data, random.Random(seed))


def test_a_mutated_row_payload_still_reaches_its_own_operation() -> None:
    """Damage inside a DataRow's value changes the value, never who receives it."""
    rng = random.Random(5)
    _, _, expected = run_session(SESSION, random.Random(0))
    for _ in range(200):
        data = bytearray(SESSION)
        marker = f"op{rng.choice([2, 3, 5, 7])}:row".encode()
        at = data.index(marker) + rng.randrange(len(marker) + 1)
        data[at] = rng.randrange(256)
        _, _, log = run_session(bytes(data), rng)
        assert [i for i, _ in log] == [i for i, _ in expected]


@pytest.mark.parametrize("seed", range(3))
def test_ten_thousand_random_mutations_finish_quickly(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(3000):
        run_session(mutate(SESSION, rng), rng)
        run_startup(mutate(STARTUP, rng), rng)
