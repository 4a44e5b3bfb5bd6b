"""OpenTelemetry spans for pgwire: queries, connection attempts and pool acquisitions.

Built on the public hooks of :mod:`pgwire.tracing`; needs ``opentelemetry-api``
(``pip install pgwire[otel]``) and an SDK configured by the application::

    from pgwire.contrib import otel

    otel.instrument()                    # the global tracer provider
    otel.instrument(tracer_provider=tp)  # or an explicit one
    ...
    otel.uninstrument()

Spans are CLIENT spans, children of whatever span is current in the task
that runs the query. Attribute names follow OpenTelemetry's database and
network semantic conventions; both the stable names (``db.system.name``,
``db.namespace``, ``db.query.text``, ``db.operation.name``) and their
predecessors (``db.system``, ``db.name``, ``db.statement``) are set, so
either generation of backend tooling recognises them. Query arguments are
never recorded (they may hold secrets); the query text can be left out with
``capture_query_text=False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import __version__, tracing

if TYPE_CHECKING:
    from ..pool import Pool

__all__ = ["OpenTelemetryObserver", "instrument", "uninstrument"]

DB_SYSTEM = "postgresql"


class OpenTelemetryObserver(tracing.Observer):
    """Turns pgwire's observation hooks into OpenTelemetry spans."""

    def __init__(self, tracer: trace.Tracer, *, capture_query_text: bool = True) -> None:
        self.tracer = tracer
        self.capture_query_text = capture_query_text

    def query_started(
        self, query: str, args: Sequence[Any], target: tracing.Target
    ) -> tracing.Finisher:
        operation = operation_name(query)
        attributes = target_attributes(target)
        if operation:
            attributes["db.operation.name"] = operation
        if self.capture_query_text:
            attributes["db.query.text"] = query
            attributes["db.statement"] = query
        span = self.tracer.start_span(
            operation or DB_SYSTEM, kind=SpanKind.CLIENT, attributes=attributes
        )
        return _ender(span)

    def connect_started(self, target: tracing.Target) -> tracing.Finisher:
        span = self.tracer.start_span(
            "connect", kind=SpanKind.CLIENT, attributes=target_attributes(target)
        )
        return _ender(span)

    def acquire_started(self, pool: Pool) -> tracing.Finisher:
        attributes: dict[str, Any] = {
            "db.system.name": DB_SYSTEM,
            "db.system": DB_SYSTEM,
            "db.client.connection.pool.max": pool.get_max_size(),
            "db.client.connection.pool.size": pool.get_size(),
            "db.client.connection.pool.idle": pool.get_idle_size(),
        }
        span = self.tracer.start_span(
            "pool.acquire", kind=SpanKind.INTERNAL, attributes=attributes
        )
        return _ender(span)


def _ender(span: trace.Span) -> tracing.Finisher:
    def finish(exc: BaseException | None) -> None:
        if exc is not None:
            span.set_attribute("error.type", type(exc).__qualname__)
            sqlstate = getattr(exc, "sqlstate", None)
            if isinstance(sqlstate, str):
                span.set_attribute("db.response.status_code", sqlstate)
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc) or type(exc).__name__))
        span.end()

    return finish


def target_attributes(target: tracing.Target) -> dict[str, Any]:
    """The semantic-convention attributes naming the server and the database."""
    attributes: dict[str, Any] = {
        "db.system.name": DB_SYSTEM,
        "db.system": DB_SYSTEM,
        "db.namespace": target.database,
        "db.name": target.database,
    }
    if isinstance(target.addr, str):
        attributes["server.address"] = target.addr
        attributes["network.transport"] = "unix"
    else:
        host, port = target.addr
        attributes["server.address"] = host
        attributes["server.port"] = port
        attributes["network.transport"] = "tcp"
    return attributes


def operation_name(query: str) -> str:
    """The query's leading SQL keyword, upper-cased (``'SELECT'``), or ``''``.

    Leading whitespace, ``--`` line comments and ``/* */`` block comments are skipped.
    """
    text = query
    while True:
        text = text.lstrip()
        if text.startswith("--"):
            newline = text.find("\n")
            text = "" if newline < 0 else text[newline + 1 :]
        elif text.startswith("/*"):
            end = text.find("*/")
            text = "" if end < 0 else text[end + 2 :]
        else:
            break
    word = []
    for char in text:
        if not char.isalpha():
            break
        word.append(char)
    return "".join(word).upper()


_active: list[OpenTelemetryObserver] = []


def instrument(
    tracer_provider: trace.TracerProvider | None = None, *, capture_query_text: bool = True
) -> OpenTelemetryObserver:
    """Emit spans for all pgwire connections and pools of this process; returns the observer.

    Calling it again replaces the previous instrumentation.
    """
    uninstrument()
    tracer = trace.get_tracer("pgwire", __version__, tracer_provider=tracer_provider)
    observer = OpenTelemetryObserver(tracer, capture_query_text=capture_query_text)
    tracing.add_observer(observer)
    _active.append(observer)
    return observer


def uninstrument() -> None:
    """Stop emitting spans (no effect when :func:`instrument` was not called)."""
    while _active:
        tracing.remove_observer(_active.pop())
