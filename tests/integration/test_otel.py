"""OpenTelemetry spans through pgwire's public observation hooks (pgwire.contrib.otel)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

import pgwire  # noqa: E402
from pgwire import tracing  # noqa: E402
from pgwire.contrib import otel  # noqa: E402


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Spans of pgwire, instrumented with a private tracer provider for the test."""
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


async def test_query_span_carries_semantic_convention_attributes(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    await conn.fetchval("SELECT $1::int", 1)
    (span,) = spans_named(exporter, "SELECT")
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
    (span,) = spans_named(exporter, "SELECT")
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
    (span,) = spans_named(exporter, "SELECT")
    assert "db.query.text" not in (span.attributes or {})


async def test_failed_query_span_records_the_error(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    with pytest.raises(pgwire.UndefinedTableError):
        await conn.execute("SELECT * FROM no_such_table_for_otel")
    (span,) = spans_named(exporter, "SELECT")
    attrs = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR
    assert attrs["error.type"] == "UndefinedTableError"
    assert attrs["db.response.status_code"] == "42P01"
    assert [e.name for e in span.events] == ["exception"]


async def test_query_span_is_a_child_of_the_current_span(
    exporter: InMemorySpanExporter, conn: Any
) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handler") as parent:
        await conn.fetch("SELECT 1")
    (span,) = spans_named(exporter, "SELECT")
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
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["CREATE", "INSERT", "SELECT", "SELECT", "UPDATE"]


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
    assert (second.attributes or {})["db.client.connection.pool.max"] == 1
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
        ("/* hint */ WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("", ""),
    ],
)
def test_operation_name_is_the_leading_keyword(query: str, operation: str) -> None:
    assert otel.operation_name(query) == operation
