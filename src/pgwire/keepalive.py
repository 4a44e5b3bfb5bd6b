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

Each value is a C ``int`` for ``setsockopt(2)``: one above 2147483647 is refused
with ``ClientConfigurationError`` naming the option and the range, before
connecting. Zero or an absent value leaves the operating system's default (on Linux two hours
of silence, then nine probes 75 s apart). Options the platform lacks are skipped,
as libpq does; unix-domain sockets get none. A connection that keepalives declare
dead fails every waiting call with ``ConnectionDoesNotExistError`` and is dropped
by its pool.
"""

from __future__ import annotations

import socket
from typing import Any

from .connect_params import ConnectParams
from .exceptions import ClientConfigurationError

__all__ = ["apply_keepalives"]

_IDLE = getattr(socket, "TCP_KEEPIDLE", None) or getattr(socket, "TCP_KEEPALIVE", None)


def apply_keepalives(sock: Any, params: ConnectParams) -> None:
    """Set ``params``' keepalive options on the TCP socket ``sock`` (a no-op for others).

    Raises ``ClientConfigurationError`` naming the option when the operating
    system refuses a value (e.g. one too large).
    """
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    settings: list[tuple[str, int, int | None, int]] = [
        ("keepalives", socket.SOL_SOCKET, socket.SO_KEEPALIVE, int(params.keepalives))
    ]
    if params.keepalives:
        settings += [
            ("keepalives_idle", socket.IPPROTO_TCP, _IDLE, params.keepalives_idle or 0),
            (
                "keepalives_interval",
                socket.IPPROTO_TCP,
                getattr(socket, "TCP_KEEPINTVL", None),
                params.keepalives_interval or 0,
            ),
            (
                "keepalives_count",
                socket.IPPROTO_TCP,
                getattr(socket, "TCP_KEEPCNT", None),
                params.keepalives_count or 0,
            ),
        ]
    settings.append(
        (
            "tcp_user_timeout",
            socket.IPPROTO_TCP,
            getattr(socket, "TCP_USER_TIMEOUT", None),
            params.tcp_user_timeout or 0,
        )
    )
    for name, level, option, value in settings:
        if option is None or (value == 0 and name != "keepalives"):
            continue  # not on this platform, or the system default
        try:
            sock.setsockopt(level, option, value)
        except OSError as exc:
            raise ClientConfigurationError(f"invalid {name} {value}: {exc.strerror}") from exc
