"""OpenTelemetry spans through pgwire's public observation hooks (pgwire.contrib.otel)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

import pgwire  # noqa: E402
from pgwire import tracing  # noqa: E402
from pgwire.contrib import otel  # noqa: E402
from pgwire.testing.faultproxy import FaultProxy  # noqa: E402


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Spans of pgwire, instrumented with a private tracer provider for the test."""
    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        otel.uninstrument()


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


@pytest.fixture
def metric_reader() -> Iterator[InMemoryMetricReader]:
    """Spans and metrics of pgwire, with private providers for the test."""
    reader = InMemoryMetricReader()
    provider = TracerProvider()
    otel.instrument(tracer_provider=provider, meter_provider=MeterProvider([reader]))
    try:
        yield reader
    finally:
        otel.uninstrument()


def instrumented(
    monkeypatch: pytest.MonkeyPatch | None = None, opt_in: str | None = None, **kwargs: Any
) -> InMemorySpanExporter:
    if monkeypatch is not None:
        if opt_in is None:
            monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
        else:
            monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", opt_in)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.instrument(tracer_provider=provider, **kwargs)
    return exporter


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


# ------------------------------------------------------------------ spans, attribute by attribute


async def test_stable_query_span_has_exactly_the_conventions_attributes(
    monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    exporter = instrumented(monkeypatch, "database")
    try:
        await conn.fetchval("SELECT $1::int", 1)
    finally:
        otel.uninstrument()
    span = only_span(exporter)
    host, port = conn._addr
    database = conn._params.database
    assert span.name == f"SELECT {database}"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes or {}) == {
        "db.system.name": "postgresql",
        "db.namespace": database,
        "db.operation.name": "SELECT",
        "db.query.text": "SELECT $1::int",
        "server.address": host,
        "server.port": port,
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_database_dup_adds_the_experimental_attributes(
    monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    exporter = instrumented(monkeypatch, "http,database/dup")
    try:
        await conn.fetchval("SELECT $1::int", 1)
    finally:
        otel.uninstrument()
    attrs = dict(only_span(exporter).attributes or {})
    database = conn._params.database
    assert attrs["db.system"] == "postgresql"
    assert attrs["db.name"] == database
    assert attrs["db.user"] == conn._params.user
    assert attrs["db.statement"] == "SELECT $1::int"
    assert attrs["db.operation"] == "SELECT"
    assert attrs["network.transport"] == "tcp"
    assert attrs["db.system.name"] == "postgresql"
    assert attrs["db.query.text"] == "SELECT $1::int"


def test_dup_wins_over_database_and_no_opt_in_keeps_both_sets() -> None:
    assert otel.semconv_generations("database") == (True, False)
    assert otel.semconv_generations("database,database/dup") == (True, True)
    assert otel.semconv_generations("") == (True, True)


async def test_query_without_placeholders_is_sanitised(
    monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    exporter = instrumented(monkeypatch, "database")
    try:
        await conn.execute("SELECT 'hunter2' AS pw, 42, $$dollar$$")
    finally:
        otel.uninstrument()
    attrs = only_span(exporter).attributes or {}
    assert attrs["db.query.text"] == "SELECT ? AS pw, ?, ?"


async def test_raw_query_text_is_an_opt_in(monkeypatch: pytest.MonkeyPatch, conn: Any) -> None:
    exporter = instrumented(monkeypatch, "database", raw_query_text=True)
    try:
        await conn.execute("SELECT 'visible'")
    finally:
        otel.uninstrument()
    assert (only_span(exporter).attributes or {})["db.query.text"] == "SELECT 'visible'"


async def test_a_script_of_several_statements_has_no_operation_name(
    monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    exporter = instrumented(monkeypatch, "database")
    try:
        await conn.execute("SELECT 1; SELECT 2")
    finally:
        otel.uninstrument()
    span = only_span(exporter)
    assert "db.operation.name" not in (span.attributes or {})
    assert span.name == conn._params.database


async def test_executemany_is_one_batch_span(monkeypatch: pytest.MonkeyPatch, conn: Any) -> None:
    await conn.execute("CREATE TEMP TABLE otel_batch (x int)")
    exporter = instrumented(monkeypatch, "database")
    try:
        await conn.executemany("INSERT INTO otel_batch VALUES ($1)", [(1,), (2,), (3,)])
    finally:
        otel.uninstrument()
    span = only_span(exporter)
    attrs = span.attributes or {}
    assert span.name == f"BATCH INSERT {conn._params.database}"
    assert attrs["db.operation.name"] == "BATCH INSERT"
    assert attrs["db.operation.batch.size"] == 3


async def test_executemany_of_one_argument_set_is_not_a_batch(
    monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    await conn.execute("CREATE TEMP TABLE otel_one (x int)")
    exporter = instrumented(monkeypatch, "database")
    try:
        await conn.executemany("INSERT INTO otel_one VALUES ($1)", [(1,)])
    finally:
        otel.uninstrument()
    attrs = only_span(exporter).attributes or {}
    assert attrs["db.operation.name"] == "INSERT"
    assert "db.operation.batch.size" not in attrs


async def test_a_query_with_one_list_argument_is_not_a_batch(
    monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    exporter = instrumented(monkeypatch, "database")
    try:
        await conn.fetchval("SELECT cardinality($1::int[])", [1, 2, 3])
    finally:
        otel.uninstrument()
    attrs = only_span(exporter).attributes or {}
    assert attrs["db.operation.name"] == "SELECT"
    assert "db.operation.batch.size" not in attrs


async def test_failed_query_span_records_sqlstate_and_error_type(
    monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    exporter = instrumented(monkeypatch, "database")
    try:
        with pytest.raises(pgwire.UndefinedTableError):
            await conn.execute("SELECT * FROM no_such_table_for_otel")
    finally:
        otel.uninstrument()
    span = only_span(exporter)
    attrs = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR
    assert attrs["db.response.status_code"] == "42P01"
    assert attrs["error.type"] == "42P01"
    assert [e.name for e in span.events] == ["exception"]


async def test_client_side_failure_names_the_exception_class(
    monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    exporter = instrumented(monkeypatch, "database")
    try:
        with pytest.raises(TimeoutError):
            await conn.execute("SELECT pg_sleep(1)", timeout=0.05)
    finally:
        otel.uninstrument()
    attrs = only_span(exporter).attributes or {}
    assert attrs["error.type"] == "TimeoutError"
    assert "db.response.status_code" not in attrs


# ------------------------------------------------------------------ pool metrics


def metric_points(reader: InMemoryMetricReader) -> dict[str, Any]:
    data = reader.get_metrics_data()
    found: dict[str, Any] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found[metric.name] = metric
    return found


async def test_pool_metrics_follow_the_conventions(
    metric_reader: InMemoryMetricReader, dsn: str
) -> None:
    async with pgwire.create_pool(dsn, min_size=2, max_size=3) as pool:
        async with pool.acquire() as con:
            host, port = con._con._addr
            name = f"{host}:{port}/{con._con._params.database}"
            await con.fetchval("SELECT 1")
            metrics = metric_points(metric_reader)
            counts = {
                p.attributes["db.client.connection.state"]: p.value
                for p in metrics["db.client.connection.count"].data.data_points
            }
            assert counts == {"idle": 1, "used": 1}
            for p in metrics["db.client.connection.count"].data.data_points:
                assert p.attributes["db.client.connection.pool.name"] == name
            assert metrics["db.client.connection.count"].unit == "{connection}"
            (mx,) = metrics["db.client.connection.max"].data.data_points
            assert (mx.value, dict(mx.attributes)) == (
                3,
                {"db.client.connection.pool.name": name},
            )
            (pending,) = metrics["db.client.connection.pending_requests"].data.data_points
            assert pending.value == 0
            assert metrics["db.client.connection.pending_requests"].unit == "{request}"
        await pool.fetchval("SELECT 1")
        with pytest.raises(TimeoutError):
            held = [await pool.acquire() for _ in range(3)]
            try:
                await pool.acquire(timeout=0.01)
            finally:
                for c in held:
                    await pool.release(c)
        metrics = metric_points(metric_reader)
    for metric_name in (
        "db.client.connection.wait_time",
        "db.client.connection.create_time",
        "db.client.connection.use_time",
    ):
        metric = metrics[metric_name]
        assert metric.unit == "s"
        (point,) = metric.data.data_points
        assert dict(point.attributes) == {"db.client.connection.pool.name": name}
        assert point.count >= 1
    (created,) = metrics["db.client.connection.create_time"].data.data_points
    assert created.count >= 2
    (timeouts,) = metrics["db.client.connection.timeouts"].data.data_points
    assert timeouts.value == 1
    assert metrics["db.client.connection.timeouts"].unit == "{timeout}"


# ------------------------------------------------------------------ earlier behaviour


async def test_query_span_carries_semantic_convention_attributes(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    await conn.fetchval("SELECT $1::int", 1)
    (span,) = spans_named(exporter, f"SELECT {conn._params.database}")
    attrs = span.attributes or {}
    assert span.kind is SpanKind.CLIENT
    assert attrs["db.system.name"] == "postgresql"
    assert attrs["db.system"] == "postgresql"
    assert attrs["db.query.text"] == "SELECT $1::int"
    assert attrs["db.statement"] == "SELECT $1::int"
    assert attrs["db.operation.name"] == "SELECT"
    assert attrs["db.namespace"] == conn._params.database
    host, port = conn._addr
    assert attrs["server.address"] == host
    assert attrs["server.port"] == port
    assert span.status.status_code is StatusCode.UNSET


async def test_query_arguments_are_never_recorded(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    await conn.execute("SELECT $1::text", "s3cret")
    (span,) = spans_named(exporter, f"SELECT {conn._params.database}")
    assert "s3cret" not in repr(dict(span.attributes or {}))


async def test_query_text_can_be_left_out(conn: Any) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.instrument(tracer_provider=provider, capture_query_text=False)
    try:
        await conn.execute("SELECT 1")
    finally:
        otel.uninstrument()
    (span,) = spans_named(exporter, f"SELECT {conn._params.database}")
    assert "db.query.text" not in (span.attributes or {})


async def test_failed_query_span_records_the_error(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    with pytest.raises(pgwire.UndefinedTableError):
        await conn.execute("SELECT * FROM no_such_table_for_otel")
    (span,) = spans_named(exporter, f"SELECT {conn._params.database}")
    attrs = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR
    assert attrs["error.type"] == "42P01"
    assert attrs["db.response.status_code"] == "42P01"
    assert [e.name for e in span.events] == ["exception"]


async def test_query_span_is_a_child_of_the_current_span(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handler") as parent:
        await conn.fetch("SELECT 1")
    (span,) = spans_named(exporter, f"SELECT {conn._params.database}")
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id


async def test_every_query_method_is_traced(exporter: InMemorySpanExporter, conn: Any) -> None:
    exporter.clear()
    await conn.execute("CREATE TEMP TABLE otel_t (x int)")
    await conn.executemany("INSERT INTO otel_t VALUES ($1)", [(1,), (2,)])
    await conn.fetch("SELECT x FROM otel_t")
    await conn.fetchrow("SELECT x FROM otel_t")
    stmt = await conn.prepare("UPDATE otel_t SET x = x + 1")
    await stmt.fetch()
    names = [s.name.rsplit(" ", 1)[0] for s in exporter.get_finished_spans()]
    assert names == ["CREATE", "BATCH INSERT", "SELECT", "SELECT", "UPDATE"]


def _query_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [
        s
        for s in exporter.get_finished_spans()
        if s.kind is SpanKind.CLIENT and s.name != "connect"
    ]


async def test_each_round_trip_of_an_iterated_cursor_is_a_span(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    async with conn.transaction():
        exporter.clear()
        rows = [r async for r in conn.cursor("SELECT generate_series(1, 5)", prefetch=2)]
        spans = _query_spans(exporter)
    assert len(rows) == 5
    # Fetches of 2, 2, 1 rows (the last one ends the portal).
    assert [s.attributes["db.query.text"] for s in spans] == ["SELECT generate_series(?, ?)"] * 3
    assert [s.name for s in spans] == ["SELECT postgres"] * 3


async def test_each_call_on_a_cursor_object_is_a_span(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    query = "SELECT generate_series(1, $1::int)"
    async with conn.transaction():
        exporter.clear()
        cur = await conn.cursor(query, 10)
        await cur.fetch(3)
        await cur.fetchrow()
        await cur.forward(2)
        spans = _query_spans(exporter)
    assert [s.attributes["db.query.text"] for s in spans] == [query] * 4


async def test_a_prepared_statements_cursor_is_traced(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    async with conn.transaction():
        stmt = await conn.prepare("SELECT generate_series(1, 3)")
        exporter.clear()
        assert len([r async for r in stmt.cursor()]) == 3
        (span,) = _query_spans(exporter)
    assert span.attributes["db.query.text"] == "SELECT generate_series(?, ?)"


async def test_the_pools_health_check_ping_makes_no_span(
    exporter: InMemorySpanExporter, dsn: str
) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=1, health_check_interval=0.05) as pool:
        await pool.fetchval("SELECT 1")
        await asyncio.sleep(0.2)  # idle past the interval: the next acquire pings
        exporter.clear()
        await pool.fetchval("SELECT 2")
        stats = pool.get_stats()
    assert stats.health_checks == 1
    assert [s.attributes["db.query.text"] for s in _query_spans(exporter)] == ["SELECT ?"]


async def test_the_pools_release_reset_makes_no_span(
    exporter: InMemorySpanExporter, dsn: str
) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        exporter.clear()
        async with pool.acquire() as con:
            await con.execute("SET search_path = public")
        stats = pool.get_stats()
    assert stats.resets == 1
    assert [s.attributes["db.query.text"] for s in _query_spans(exporter)] == [
        "SET search_path = public"
    ]


async def test_a_pool_call_sent_again_elsewhere_is_one_span_without_error(
    exporter: InMemorySpanExporter, dsn: str, conn: Any
) -> None:
    port = int(dsn.rsplit(":", 1)[1].split("/")[0])
    async with FaultProxy("127.0.0.1", port) as proxy:
        async with pgwire.create_pool(proxy.dsn(dsn), min_size=1, max_size=1) as pool:
            async with pool.acquire() as con:
                pid = con.get_server_pid()
            # The FATAL is held back until the statement was sent: it never started.
            proxy.stall()
            await conn.execute("SELECT pg_terminate_backend($1, 5000)", pid)
            exporter.clear()
            call = asyncio.ensure_future(pool.fetchval("SELECT $1::int", 7))
            await asyncio.sleep(0.1)
            proxy.resume()
            assert await asyncio.wait_for(call, 10) == 7
            assert pool.get_stats().retries == 1
    (span,) = [s for s in _query_spans(exporter) if s.attributes.get("db.query.text")]
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes
    assert span.attributes["pgwire.retries"] == 1
    (event,) = span.events
    assert event.name == "pgwire.retry"
    assert event.attributes["exception.type"] == (
        "pgwire.exceptions.ConnectionClosedBeforeStartError"
    )


async def test_connect_span_names_the_server(exporter: InMemorySpanExporter, dsn: str) -> None:
    conn = await pgwire.connect(dsn)
    await conn.close()
    (span,) = spans_named(exporter, "connect")
    attrs = span.attributes or {}
    assert span.kind is SpanKind.CLIENT
    assert attrs["db.system.name"] == "postgresql"
    assert attrs["server.port"] == conn._addr[1]
    assert span.status.status_code is StatusCode.UNSET


async def test_failed_connect_span_records_the_error(
    exporter: InMemorySpanExporter, dsn: str
) -> None:
    with pytest.raises(pgwire.InvalidCatalogNameError):
        await pgwire.connect(dsn, database="no_such_database_for_otel")
    (span,) = spans_named(exporter, "connect")
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["db.namespace"] == "no_such_database_for_otel"


async def test_pool_acquire_span_covers_the_wait_for_a_free_connection(
    exporter: InMemorySpanExporter, dsn: str
) -> None:
    import asyncio

    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        exporter.clear()
        held = await pool.acquire()
        waiter = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0.1)
        await pool.release(held)
        await pool.release(await waiter)
    first, second = spans_named(exporter, "pool.acquire")
    waited_ns = (second.end_time or 0) - (second.start_time or 0)
    assert waited_ns >= 90_000_000
    assert "db.client.connection.pool.name" in (second.attributes or {})
    assert first.status.status_code is StatusCode.UNSET


async def test_uninstrument_stops_the_spans(exporter: InMemorySpanExporter, conn: Any) -> None:
    otel.uninstrument()
    exporter.clear()
    await conn.execute("SELECT 1")
    assert exporter.get_finished_spans() == ()
    assert tracing.observers == []


async def test_a_failing_observer_does_not_fail_the_query(conn: Any) -> None:
    class Broken(tracing.Observer):
        def query_started(self, query: str, args: Any, target: tracing.Target) -> None:
            raise RuntimeError("observer bug")

    broken = Broken()
    tracing.add_observer(broken)
    try:
        assert await conn.fetchval("SELECT 7") == 7
    finally:
        tracing.remove_observer(broken)


@pytest.mark.parametrize(
    ("query", "operation"),
    [
        ("select 1", "SELECT"),
        ("  -- note\n  insert into t values (1)", "INSERT"),
        ("/* hint */ WITH x AS (SELECT 1) SELECT * FROM x", ""),
        ("SELECT 1; SELECT 2", ""),
        ("", ""),
    ],
)
def test_operation_name_is_the_leading_keyword_of_a_single_statement(
    query: str, operation: str
) -> None:
    assert otel.operation_name(query) == operation


@pytest.mark.parametrize(
    ("query", "sanitized"),
    [
        ("SELECT 'O''Reilly', 42, 1.5e-3", "SELECT ?, ?, ?"),
        ("SELECT E'it\\'s', x'ff', b'01', U&'d\\0061t'", "SELECT ?, ?, ?, ?"),
        ("SELECT $tag$ secret ; $tag$, $$x$$", "SELECT ?, ?"),
        ('SELECT "col 1", t2.c3 FROM t2 -- 5\n', 'SELECT "col 1", t2.c3 FROM t2 -- 5\n'),
        ("SELECT /* 'a' /* 1 */ */ 7", "SELECT /* 'a' /* 1 */ */ ?"),
        ("SELECT 0x1F, 0O17, 0b1_01, 1_000, 1_000.5", "SELECT ?, ?, ?, ?, ?"),
    ],
)
def test_sanitize_replaces_every_literal_and_nothing_else(query: str, sanitized: str) -> None:
    assert otel.sanitize(query) == sanitized


def test_a_semicolon_inside_a_literal_does_not_split_the_statement() -> None:
    assert otel.operation_name("SELECT ';' AS sep") == "SELECT"
