"""TCP keepalives and ``TCP_USER_TIMEOUT`` on a connection's socket, as libpq sets them.

libpq's connection options (PostgreSQL docs, "Parameter Key Words"), accepted by
:func:`pgwire.connect` as keyword arguments, in the DSN and in a service file
(libpq has no environment variables for them):

* ``keepalives``: 1 (the default) turns TCP keepalives on, 0 off.
* ``keepalives_idle``: seconds of silence before the first probe (``TCP_KEEPIDLE``;
  ``TCP_KEEPALIVE`` on macOS).
* ``keepalives_interval``: seconds between unanswered probes (``TCP_KEEPINTVL``).
* ``keepalives_count``: unanswered probes before the connection is dead (``TCP_KEEPCNT``).
* ``tcp_user_timeout``: milliseconds sent data may stay unacknowledged before the
  connection is dead (``TCP_USER_TIMEOUT``, Linux).

Zero or an absent value leaves the operating system's default (on Linux two hours
of silence, then nine probes 75 s apart). Options the platform lacks are skipped,
as libpq does; unix-domain sockets get none. A connection that keepalives declare
dead fails every waiting call with ``ConnectionDoesNotExistError`` and is dropped
by its pool.
"""

from __future__ import annotations

import socket
from typing import Any

from .connect_params import ConnectParams

__all__ = ["apply_keepalives"]

_IDLE = getattr(socket, "TCP_KEEPIDLE", None) or getattr(socket, "TCP_KEEPALIVE", None)


def apply_keepalives(sock: Any, params: ConnectParams) -> None:
    """Set ``params``' keepalive options on the TCP socket ``sock`` (a no-op for others).

    Raises ``OSError`` when the operating system refuses a value.
    """
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    if not params.keepalives:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in (
            (_IDLE, params.keepalives_idle),
            (getattr(socket, "TCP_KEEPINTVL", None), params.keepalives_interval),
            (getattr(socket, "TCP_KEEPCNT", None), params.keepalives_count),
        ):
            if option is not None and value:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
    user_timeout = getattr(socket, "TCP_USER_TIMEOUT", None)
    if user_timeout is not None and params.tcp_user_timeout:
        sock.setsockopt(socket.IPPROTO_TCP, user_timeout, params.tcp_user_timeout)
