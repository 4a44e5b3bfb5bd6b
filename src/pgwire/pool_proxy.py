"""``PoolConnectionProxy``: what ``Pool.acquire()`` hands out.

The proxy forwards every attribute to the pooled :class:`~pgwire.Connection`
and passes ``isinstance(proxy, pgwire.Connection)``. Methods that send SQL
text are forwarded through a thin wrapper that lets the pool see the text
(for its cheap-reset rule, see :mod:`pgwire.pool_session`) and count queries
(for ``max_queries``). Once the connection is released every attribute access
raises :class:`~pgwire.exceptions.InterfaceError` naming the method.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import exceptions
from .connection import _ConnectionProxy

if TYPE_CHECKING:
    from .connection import Connection
    from .pool import _Holder

__all__ = ["PoolConnectionProxy"]


def released_error(name: str) -> exceptions.InterfaceError:
    return exceptions.InterfaceError(
        f"cannot call Connection.{name}(): connection has been released back to the pool"
    )


def _like_connection_method(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    """Give ``method`` the name, docstring and signature of ``Connection.<name>``.

    asyncpg's proxy does the same, so ``help()``, ``inspect.signature()`` and
    documentation tools see the Connection method.
    """
    from .connection import Connection

    original = getattr(Connection, name)
    functools.update_wrapper(method, original)
    method.__qualname__ = f"PoolConnectionProxy.{name}"
    method.__module__ = __name__
    if inspect.iscoroutinefunction(original) and hasattr(inspect, "markcoroutinefunction"):
        inspect.markcoroutinefunction(method)  # Python 3.12+
    return method


def _sql_method(name: str) -> Callable[..., Any]:
    """A forwarder for a Connection method whose first argument is SQL text."""

    def method(self: PoolConnectionProxy, query: Any, *args: Any, **kwargs: Any) -> Any:
        con = self._con
        if con is None:
            raise released_error(name)
        self._holder.note(query)
        return getattr(con, name)(query, *args, **kwargs)

    return _like_connection_method(method, name)


def _forwarder(name: str) -> Callable[..., Any]:
    """A forwarder for any other public Connection method."""

    def method(self: PoolConnectionProxy, *args: Any, **kwargs: Any) -> Any:
        con = self._con
        if con is None:
            raise released_error(name)
        return getattr(con, name)(*args, **kwargs)

    return _like_connection_method(method, name)


class PoolConnectionProxy(_ConnectionProxy):
    """A pooled connection on loan; behaves as the :class:`~pgwire.Connection` it wraps."""

    __slots__ = ("_con", "_holder")

    def __init__(self, holder: _Holder, con: Connection) -> None:
        self._holder = holder
        self._con: Connection | None = con
        # Listener callbacks receive this proxy while it is on loan (asyncpg's rule).
        con._proxy = self

    execute = _sql_method("execute")
    executemany = _sql_method("executemany")
    fetch = _sql_method("fetch")
    fetchrow = _sql_method("fetchrow")
    fetchval = _sql_method("fetchval")
    fetchmany = _sql_method("fetchmany")
    prepare = _sql_method("prepare")
    cursor = _sql_method("cursor")
    copy_from_query = _sql_method("copy_from_query")

    def __getattr__(self, name: str) -> Any:
        con = self._con
        if con is None:
            raise released_error(name)
        return getattr(con, name)

    def _detach(self) -> Connection | None:
        con, self._con = self._con, None
        if con is not None:
            con._release_ctr += 1
            if con._proxy is self:
                con._proxy = None
        return con

    def __repr__(self) -> str:
        if self._con is None:
            return f"<{type(self).__name__} [released] {id(self):#x}>"
        return f"<{type(self).__name__} {self._con!r} {id(self):#x}>"


def _add_forwarders() -> None:
    from .connection import Connection

    for name in dir(Connection):
        if name.startswith("_") or name in PoolConnectionProxy.__dict__:
            continue
        if inspect.isfunction(getattr(Connection, name)):
            setattr(PoolConnectionProxy, name, _forwarder(name))


_add_forwarders()
