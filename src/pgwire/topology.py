"""Which server a connection reached, and whether it is the kind the user asked for.

``target_session_attrs`` (libpq's names):

* ``any`` -- every server;
* ``primary`` / ``standby`` -- not in / in hot standby (recovery);
* ``read-write`` / ``read-only`` -- sessions default to read-write / read-only
  (a standby is read-only, and so is a primary with ``default_transaction_read_only``);
* ``prefer-standby`` -- a standby if one of the hosts is, else any server.

PostgreSQL 14 and later report ``in_hot_standby`` and ``default_transaction_read_only`` as
ParameterStatus, so the check costs no round trip; older servers are asked with
``SELECT pg_is_in_recovery()`` or ``SHOW transaction_read_only``.

``order_hosts`` applies ``load_balance_hosts`` (``disable``: in order; ``random``: shuffled,
libpq 16).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from . import exceptions
from .protocol.core import SimpleQueryOperation

if TYPE_CHECKING:
    from .connection import Connection

__all__ = [
    "ServerRole",
    "describe_role",
    "first_row_text",
    "matches",
    "order_hosts",
    "server_role",
]

_T = TypeVar("_T")


class ServerRole:
    """What a server is: ``standby`` (in recovery) and ``read_only`` (default read-only)."""

    __slots__ = ("standby", "read_only")

    def __init__(self, standby: bool, read_only: bool) -> None:
        self.standby = standby
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"<ServerRole {describe_role(self)}>"


def describe_role(role: ServerRole) -> str:
    if role.standby:
        return "a standby"
    return "a read-only primary" if role.read_only else "a primary"


async def server_role(conn: Connection, *, refresh: bool = False) -> ServerRole:
    """The role of the server behind ``conn``.

    From ParameterStatus when the server reports it (PostgreSQL 14+) and ``refresh`` is
    false; otherwise with one query.  ``refresh`` matters after a promotion: the
    ParameterStatus updates too, but only once the session has read the next message.
    """
    params = conn._core.parameters
    if not refresh and "in_hot_standby" in params and "default_transaction_read_only" in params:
        standby = params["in_hot_standby"] == "on"
        read_only = standby or params["default_transaction_read_only"] == "on"
        return ServerRole(standby, read_only)
    recovery_text, read_only_text = await first_row_text(
        conn,
        "SELECT pg_catalog.pg_is_in_recovery(), "
        "pg_catalog.current_setting('default_transaction_read_only') = 'on'",
    )
    return ServerRole(recovery_text == "t", recovery_text == "t" or read_only_text == "t")


class _FirstRow(SimpleQueryOperation):
    """A simple Query keeping its first row's values as text."""

    __slots__ = ("row",)

    def __init__(self, sql: str) -> None:
        super().__init__(sql)
        self.row: tuple[str | None, ...] | None = None

    def on_data_row(self, payload: bytes) -> None:
        if self.row is not None:
            return
        count = int.from_bytes(payload[:2], "big")
        values: list[str | None] = []
        pos = 2
        for _ in range(count):
            length = int.from_bytes(payload[pos : pos + 4], "big", signed=True)
            pos += 4
            if length < 0:
                values.append(None)
            else:
                values.append(payload[pos : pos + length].decode("utf-8"))
                pos += length
        self.row = tuple(values)


async def first_row_text(
    conn: Connection, sql: str, timeout: float | None = None
) -> tuple[str | None, ...]:
    """The first row of ``sql`` as text, over the simple protocol.

    No statement is prepared, so this is safe before the session knows whether a
    transaction-mode pooler sits in between (see :mod:`pgwire.pooler`).
    """
    async with conn._operation(timeout) as ctx:
        op = await ctx.run(_FirstRow(sql))
    if op.row is None:
        raise exceptions.InterfaceError(f"{sql!r} returned no row")
    return op.row


def matches(role: ServerRole, attrs: str) -> bool:
    """True when a server of ``role`` satisfies ``target_session_attrs=attrs``."""
    if attrs in ("any", "prefer-standby"):
        return attrs == "any" or role.standby
    if attrs == "primary":
        return not role.standby
    if attrs == "standby":
        return role.standby
    if attrs == "read-write":
        return not role.read_only
    if attrs == "read-only":
        return role.read_only
    raise ValueError(f"unknown target_session_attrs {attrs!r}")


def order_hosts(items: Sequence[_T], load_balance_hosts: str) -> list[_T]:
    """``items`` in the order to try them."""
    ordered = list(items)
    if load_balance_hosts == "random":
        random.shuffle(ordered)
    return ordered
