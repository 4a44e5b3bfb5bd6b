"""OpenTelemetry spans and pool metrics for pgwire, by the database semantic conventions.

Built on the public hooks of :mod:`pgwire.tracing`; needs ``opentelemetry-api``
(``pip install pgwire[otel]``) and an SDK configured by the application::

    from pgwire.contrib import otel

    otel.instrument()                            # the global tracer and meter providers
    otel.instrument(tracer_provider=tp, meter_provider=mp)   # or explicit ones
    ...
    otel.uninstrument()

Spans (OpenTelemetry semantic conventions for database client spans and for
PostgreSQL, stable since v1.33):

1. One CLIENT span per public call that carries SQL, a child of the span
   current in the calling task. Its name is ``{db.operation.name}
   {db.namespace}`` (``SELECT shop``); ``{db.operation.name}`` or
   ``{db.namespace}`` alone when only one is known.
2. ``db.system.name`` is ``postgresql``; ``db.namespace`` the database name
   (the schema would need a round trip); ``server.address`` and
   ``server.port`` the server (``server.address`` is the socket path for a
   unix socket).
3. ``db.operation.name`` is set only when the query text is one statement and
   starts with its command keyword (``SELECT``, ``INSERT``, ...): a script
   with several statements, or one starting with ``WITH`` or a parenthesis,
   has no single reliable operation name.
4. ``db.query.text`` is the text as sent when it has ``$n`` placeholders (the
   values travel separately); otherwise it is sanitised, every string,
   dollar-quoted and numeric literal replaced by ``?``, unless the
   application opts in to the raw text (``raw_query_text=True``).
   ``capture_query_text=False`` leaves it out. Argument values are never
   recorded.
5. ``executemany()``/``fetchmany()`` with two or more argument sets is one
   span of a batch: ``db.operation.name`` ``BATCH INSERT`` (``BATCH`` when
   the statement has no reliable name) and ``db.operation.batch.size``.
6. A failed call sets the span status to ERROR, records the exception,
   ``error.type`` (the SQLSTATE for an error reported by the server, else the
   exception's class qualified by its module, ``pgwire.exceptions.InterfaceError``,
   and a built-in exception's bare name, ``TimeoutError``) and
   ``db.response.status_code`` (the server's SQLSTATE).
7. ``OTEL_SEMCONV_STABILITY_OPT_IN`` (a comma-separated list, read by
   :func:`instrument`) chooses the attribute generation as the conventions
   define: ``database`` emits only the stable attributes; ``database/dup``
   also the experimental ones of v1.24 (``db.system``, ``db.name``,
   ``db.user``, ``db.statement``, ``db.operation``, ``network.transport``);
   without either value pgwire keeps what it emitted before, which is both
   sets. ``database/dup`` wins when both are present.
8. A pool shortcut that the pool sends again on another connection after
   ``ConnectionClosedBeforeStartError`` (rule 8 of :mod:`pgwire.pool`) is
   one span, ended by the attempt that ran: each failed attempt adds a
   ``pgwire.retry`` event (``exception.type``, ``exception.message``) and
   sets ``pgwire.retries`` to the number of attempts sent again; the span is
   an ERROR span only when the call failed.
9. The driver's own statements (the pool's health-check ping and release
   reset, closing a cursor's portal, type introspection) make no span. A
   cursor makes one span per round trip (open, each fetch or ``forward``)
   with the cursor's query text, like asyncpg's instrumentation.

Pool metrics (semantic conventions for database client metrics; pgwire
emitted none before, so only the current names), every data point carrying
``db.client.connection.pool.name`` (``host:port/database`` of the pool's
server, as the conventions suggest for pools without a name):

* ``db.client.connection.count`` (``{connection}``), by
  ``db.client.connection.state`` ``idle`` / ``used``;
* ``db.client.connection.max`` (``{connection}``) and
  ``db.client.connection.pending_requests`` (``{request}``, tasks waiting in
  ``acquire()``);
* ``db.client.connection.wait_time``, ``db.client.connection.create_time``
  and ``db.client.connection.use_time``: histograms in seconds of
  acquisition, connection opening and time out of the pool;
* ``db.client.connection.timeouts`` (``{timeout}``): acquisitions that timed out.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import __version__, tracing

if TYPE_CHECKING:
    from ..pool import Pool

__all__ = [
    "OpenTelemetryObserver",
    "instrument",
    "uninstrument",
    "operation_name",
    "sanitize",
    "semconv_generations",
]

DB_SYSTEM = "postgresql"


def semconv_generations(opt_in: str | None = None) -> tuple[bool, bool]:
    """``(stable, experimental)``: which attribute sets to emit (rule 7).

    ``opt_in`` is the value of ``OTEL_SEMCONV_STABILITY_OPT_IN`` (read from the
    environment when ``None``).
    """
    if opt_in is None:
        opt_in = os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "")
    values = {v.strip() for v in opt_in.split(",")}
    if "database/dup" in values:
        return True, True
    if "database" in values:
        return True, False
    return True, True


class OpenTelemetryObserver(tracing.Observer):
    """Turns pgwire's observation hooks into OpenTelemetry spans and pool metrics.

    ``meter`` may be ``None`` (no metrics). ``stable``/``experimental`` choose
    the attribute generations (rule 7); ``capture_query_text`` and
    ``raw_query_text`` rule 4.
    """

    def __init__(
        self,
        tracer: trace.Tracer,
        *,
        meter: metrics.Meter | None = None,
        capture_query_text: bool = True,
        raw_query_text: bool = False,
        stable: bool = True,
        experimental: bool = True,
    ) -> None:
        self.tracer = tracer
        self.capture_query_text = capture_query_text
        self.raw_query_text = raw_query_text
        self.stable = stable
        self.experimental = experimental
        self._pools: weakref.WeakSet[Pool] = weakref.WeakSet()
        self._pool_names: weakref.WeakKeyDictionary[Pool, str] = weakref.WeakKeyDictionary()
        self._metrics = meter is not None
        if meter is not None:
            self._wait_time = meter.create_histogram(
                "db.client.connection.wait_time",
                unit="s",
                description="The time it took to obtain an open connection from the pool.",
            )
            self._create_time = meter.create_histogram(
                "db.client.connection.create_time",
                unit="s",
                description="The time it took to create a new connection.",
            )
            self._use_time = meter.create_histogram(
                "db.client.connection.use_time",
                unit="s",
                description="The time between borrowing a connection and returning it "
                "to the pool.",
            )
            self._timeouts = meter.create_counter(
                "db.client.connection.timeouts",
                unit="{timeout}",
                description="The number of connection timeouts that have occurred trying to "
                "obtain a connection from the pool.",
            )
            meter.create_observable_up_down_counter(
                "db.client.connection.count",
                callbacks=[self._observe_count],
                unit="{connection}",
                description="The number of connections that are currently in state described "
                "by the `state` attribute.",
            )
            meter.create_observable_up_down_counter(
                "db.client.connection.max",
                callbacks=[self._observe_max],
                unit="{connection}",
                description="The maximum number of open connections allowed.",
            )
            meter.create_observable_up_down_counter(
                "db.client.connection.pending_requests",
                callbacks=[self._observe_pending],
                unit="{request}",
                description="The number of current pending requests for an open connection.",
            )

    # ------------------------------------------------------------ spans

    def query_started(
        self, query: str, args: Sequence[Any], target: tracing.Target
    ) -> tracing.Finisher:
        scan = _scan(query)
        operation = scan.operation
        sized = isinstance(args, tracing.BatchArgs)
        batch = (sized and len(args) >= 2) or isinstance(args, tracing.BatchStream)
        if batch:
            operation = f"BATCH {operation}" if operation else "BATCH"
        attributes = self._target_attributes(target)
        if operation:
            if self.stable:
                attributes["db.operation.name"] = operation
            if self.experimental:
                attributes["db.operation"] = operation
        if batch and sized:
            attributes["db.operation.batch.size"] = len(args)
        if self.capture_query_text:
            text = query if scan.placeholders or self.raw_query_text else scan.sanitized
            if self.stable:
                attributes["db.query.text"] = text
            if self.experimental:
                attributes["db.statement"] = text
        name = " ".join(part for part in (operation, target.database) if part) or DB_SYSTEM
        span = self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        return _ender(span)

    def connect_started(self, target: tracing.Target) -> tracing.Finisher:
        span = self.tracer.start_span(
            "connect", kind=SpanKind.CLIENT, attributes=self._target_attributes(target)
        )
        return _ender(span)

    def acquire_started(self, pool: Pool) -> tracing.Finisher:
        attributes: dict[str, Any] = {"db.client.connection.pool.name": self._pool_name(pool)}
        if self.stable:
            attributes["db.system.name"] = DB_SYSTEM
        if self.experimental:
            attributes["db.system"] = DB_SYSTEM
        span = self.tracer.start_span(
            "pool.acquire", kind=SpanKind.INTERNAL, attributes=attributes
        )
        return _ender(span)

    def _target_attributes(self, target: tracing.Target) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        if self.stable:
            attributes["db.system.name"] = DB_SYSTEM
            attributes["db.namespace"] = target.database
        if self.experimental:
            attributes["db.system"] = DB_SYSTEM
            attributes["db.name"] = target.database
            attributes["db.user"] = target.user
            attributes["network.transport"] = "unix" if isinstance(target.addr, str) else "tcp"
        if isinstance(target.addr, str):
            attributes["server.address"] = target.addr
        else:
            attributes["server.address"], attributes["server.port"] = target.addr
        return attributes

    # ------------------------------------------------------------ metrics

    def pool_event(self, pool: Pool, event: str, seconds: float) -> None:
        if not self._metrics:
            return
        self._pools.add(pool)
        if event == "open":
            return
        attributes = {"db.client.connection.pool.name": self._pool_name(pool)}
        if event == "wait":
            self._wait_time.record(seconds, attributes)
        elif event == "use":
            self._use_time.record(seconds, attributes)
        elif event == "create":
            self._create_time.record(seconds, attributes)
        elif event == "timeout":
            self._timeouts.add(1, attributes)

    def _live_pools(self) -> list[Pool]:
        return [p for p in list(self._pools) if not p._closed]

    def _observe_count(self, options: CallbackOptions) -> Iterable[Observation]:
        for pool in self._live_pools():
            name = self._pool_name(pool)
            idle = pool.get_idle_size()
            for state, value in (("idle", idle), ("used", pool.get_size() - idle)):
                yield Observation(
                    value,
                    {"db.client.connection.pool.name": name, "db.client.connection.state": state},
                )

    def _observe_max(self, options: CallbackOptions) -> Iterable[Observation]:
        for pool in self._live_pools():
            name = self._pool_name(pool)
            yield Observation(pool.get_max_size(), {"db.client.connection.pool.name": name})

    def _observe_pending(self, options: CallbackOptions) -> Iterable[Observation]:
        for pool in self._live_pools():
            name = self._pool_name(pool)
            yield Observation(pool._n_waiting, {"db.client.connection.pool.name": name})

    def _pool_name(self, pool: Pool) -> str:
        """``host:port/database`` of the pool's server (the conventions' suggestion)."""
        name = self._pool_names.get(pool)
        if name is None:
            name = _derive_pool_name(pool)
            self._pool_names[pool] = name
        return name


def _derive_pool_name(pool: Pool) -> str:
    for holder in list(pool._holders):
        con = holder.con
        addr = con._addr
        where = addr if isinstance(addr, str) else f"{addr[0]}:{addr[1]}"
        return f"{where}/{con._params.database}"
    from ..connect_params import parse_connect_arguments

    kwargs = pool._connect_kwargs
    try:
        args = pool._connect_args
        params = parse_connect_arguments(
            dsn=args[0] if args and isinstance(args[0], str) else kwargs.get("dsn"),
            host=kwargs.get("host"),
            port=kwargs.get("port"),
            user=kwargs.get("user"),
            database=kwargs.get("database"),
        )
    except Exception:
        return f"pgwire-pool-{id(pool):x}"
    addr = params.addrs[0] if params.addrs else ""
    where = addr if isinstance(addr, str) else f"{addr[0]}:{addr[1]}"
    return f"{where}/{params.database}"


def _ender(span: trace.Span) -> tracing.Finisher:
    return _SpanEnd(span)


class _SpanEnd:
    """Ends ``span`` (rule 6 on failure); a pool retry is an event on it (rule 8)."""

    __slots__ = ("span", "retries")

    def __init__(self, span: trace.Span) -> None:
        self.span = span
        self.retries = 0

    def __call__(self, exc: BaseException | None) -> None:
        span = self.span
        if exc is not None:
            sqlstate = getattr(exc, "sqlstate", None)
            from_server = isinstance(sqlstate, str) and getattr(exc, "severity", None) is not None
            if from_server:
                span.set_attribute("db.response.status_code", sqlstate)
                span.set_attribute("error.type", sqlstate)
            else:
                span.set_attribute("error.type", _class_name(exc))
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc) or type(exc).__name__))
        span.end()

    def retried(self, exc: BaseException) -> None:
        self.retries += 1
        self.span.set_attribute("pgwire.retries", self.retries)
        self.span.add_event(
            "pgwire.retry",
            {"exception.type": _class_name(exc), "exception.message": str(exc)},
        )


def _class_name(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


# ------------------------------------------------------------ SQL text


class _Scan:
    __slots__ = ("operation", "placeholders", "sanitized")

    def __init__(self, operation: str, placeholders: bool, sanitized: str) -> None:
        self.operation = operation
        self.placeholders = placeholders
        self.sanitized = sanitized


_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_CHARS = _IDENT_START | frozenset("0123456789$")
_DIGITS = frozenset("0123456789")
#: Decimal constants, with PostgreSQL 16's underscores between digits (``1_000``).
_NUMBER_CHARS = frozenset("0123456789_.eE")
#: Digits of PostgreSQL 16's hexadecimal, octal and binary integers, and underscores.
_HEX = frozenset("0123456789abcdefABCDEF_")
_STRING_PREFIXES = frozenset("eEbBxXnN")
#: Leading keywords that do not name the statement's operation by themselves.
_NOT_AN_OPERATION = frozenset({"WITH"})


def _scan(query: str) -> _Scan:
    """One pass over ``query``: statements, first keyword, ``$n`` placeholders, sanitised text.

    Knows PostgreSQL's lexical rules for comments (``--``, nested ``/* */``),
    quoted identifiers, string constants (``'...'`` with ``''``, ``E'...'``
    with backslash escapes, ``B''``/``X''``/``N''``/``U&''``), dollar quoting
    and numeric constants (PostgreSQL docs, "Lexical Structure", 4.1.2.6),
    PostgreSQL 16's ``0x``/``0o``/``0b`` integers and ``1_000`` included.
    """
    out: list[str] = []
    n = len(query)
    i = 0
    statements = 0
    in_statement = False
    first_word = ""
    placeholders = False
    while i < n:
        c = query[i]
        if c in " \t\r\n\f":
            out.append(c)
            i += 1
        elif c == "-" and query.startswith("--", i):
            end = query.find("\n", i)
            end = n if end < 0 else end
            out.append(query[i:end])
            i = end
        elif c == "/" and query.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if query.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif query.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(query[i:j])
            i = j
        elif c == ";":
            out.append(c)
            in_statement = False
            i += 1
        else:
            if not in_statement:
                in_statement = True
                statements += 1
            if (
                c == "'"
                or (c in _STRING_PREFIXES and i + 1 < n and query[i + 1] == "'")
                or (query.startswith(("U&'", "u&'"), i))
            ):
                i = _skip_string(query, i)
                out.append("?")
            elif c == '"':
                j = i + 1
                while j < n:
                    if query[j] == '"':
                        if j + 1 < n and query[j + 1] == '"':
                            j += 2
                            continue
                        break
                    j += 1
                out.append(query[i : j + 1])
                i = j + 1
            elif c == "$":
                j = i + 1
                if j < n and query[j] in _DIGITS:
                    while j < n and query[j] in _DIGITS:
                        j += 1
                    placeholders = True
                    out.append(query[i:j])
                    i = j
                    continue
                while j < n and query[j] in _IDENT_CHARS and query[j] != "$":
                    j += 1
                if j < n and query[j] == "$":
                    tag = query[i : j + 1]
                    end = query.find(tag, j + 1)
                    i = n if end < 0 else end + len(tag)
                    out.append("?")
                else:
                    out.append(c)
                    i += 1
            elif c in _IDENT_START or ord(c) > 127:
                j = i + 1
                while j < n and (query[j] in _IDENT_CHARS or ord(query[j]) > 127):
                    j += 1
                word = query[i:j]
                if statements == 1 and not first_word:
                    first_word = word
                out.append(word)
                i = j
            elif c == "0" and i + 2 < n and query[i + 1] in "xXoObB" and query[i + 2] in _HEX:
                # PostgreSQL 16's 0x1F, 0o17, 0b101 (with optional underscores).
                j = i + 2
                while j < n and query[j] in _HEX:
                    j += 1
                out.append("?")
                i = j
            elif c in _DIGITS or (c == "." and i + 1 < n and query[i + 1] in _DIGITS):
                j = i + 1
                while j < n and (
                    query[j] in _NUMBER_CHARS or (query[j] in "+-" and query[j - 1] in "eE")
                ):
                    j += 1
                out.append("?")
                i = j
            else:
                if statements == 1 and not first_word:
                    first_word = "("  # starts with punctuation: no command keyword
                out.append(c)
                i += 1
    operation = ""
    if statements == 1 and first_word and first_word[0] in _IDENT_START:
        upper = first_word.upper()
        if upper not in _NOT_AN_OPERATION:
            operation = upper
    return _Scan(operation, placeholders, "".join(out))


def _skip_string(query: str, i: int) -> int:
    """The index after the string constant starting at ``i`` (its prefix included)."""
    n = len(query)
    backslash = query[i] in "eE"
    while query[i] != "'":
        i += 1
    j = i + 1
    while j < n:
        c = query[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == "'":
            if j + 1 < n and query[j + 1] == "'":
                j += 2
                continue
            return j + 1
        j += 1
    return n


def operation_name(query: str) -> str:
    """The statement's command keyword, upper-cased (``'SELECT'``), or ``''`` (rule 3)."""
    return _scan(query).operation


def sanitize(query: str) -> str:
    """``query`` with its string, dollar-quoted and numeric literals replaced by ``?``."""
    return _scan(query).sanitized


_active: list[OpenTelemetryObserver] = []


def instrument(
    tracer_provider: trace.TracerProvider | None = None,
    *,
    meter_provider: metrics.MeterProvider | None = None,
    capture_query_text: bool = True,
    raw_query_text: bool = False,
) -> OpenTelemetryObserver:
    """Emit spans and pool metrics for all pgwire connections and pools; returns the observer.

    ``tracer_provider``/``meter_provider`` default to the global ones.
    ``capture_query_text=False`` leaves ``db.query.text`` out;
    ``raw_query_text=True`` records queries without placeholders unsanitised
    (they may hold secrets). ``OTEL_SEMCONV_STABILITY_OPT_IN`` is read now
    (rule 7). Calling it again replaces the previous instrumentation.
    """
    uninstrument()
    stable, experimental = semconv_generations()
    tracer = trace.get_tracer("pgwire", __version__, tracer_provider=tracer_provider)
    meter = metrics.get_meter("pgwire", __version__, meter_provider=meter_provider)
    observer = OpenTelemetryObserver(
        tracer,
        meter=meter,
        capture_query_text=capture_query_text,
        raw_query_text=raw_query_text,
        stable=stable,
        experimental=experimental,
    )
    tracing.add_observer(observer)
    _active.append(observer)
    return observer


def uninstrument() -> None:
    """Stop emitting spans and metrics (no effect when :func:`instrument` was not called).

    Instruments already created stay with their meter provider; their
    observable ones report no pool afterwards.
    """
    while _active:
        observer = _active.pop()
        observer._pools = weakref.WeakSet()
        observer._metrics = False
        tracing.remove_observer(observer)
