"""``asyncpg.connect_utils``: connection-parameter resolution under asyncpg's module name.

asyncpg keeps its DSN and environment parsing here (private); pgwire's lives in
:mod:`pgwire.connect_params`, re-exported below with the SSLRequest code of the
protocol (PostgreSQL docs, "Message Formats": ``SSLRequest``).
"""

from __future__ import annotations

import enum

from pgwire.connect_params import (
    DEFAULT_PORT,
    SSL_MODES,
    TARGET_SESSION_ATTRS,
    ConnectParams,
    parse_connect_arguments,
)

__all__ = (
    "DEFAULT_PORT",
    "SSL_MODES",
    "TARGET_SESSION_ATTRS",
    "ConnectParams",
    "SSLMode",
    "_SSL_REQUEST_CODE",
    "parse_connect_arguments",
)

#: The protocol code of an SSLRequest packet (1234 << 16 | 5679).
_SSL_REQUEST_CODE = 80877103


class SSLMode(enum.IntEnum):
    """libpq's ``sslmode`` values, ordered from least to most strict (asyncpg's enum).

    pgwire itself keeps ``sslmode`` as the string (:data:`SSL_MODES`); this enum is
    for code that compares modes the way asyncpg's does.
    """

    disable = 0
    allow = 1
    prefer = 2
    require = 3
    verify_ca = 4
    verify_full = 5

    @classmethod
    def parse(cls, sslmode: str | SSLMode) -> SSLMode:
        """The member for ``'verify-full'``, ``'verify_full'`` or a member itself.

        Raises ``AttributeError`` for an unknown mode, as asyncpg's does.
        """
        if isinstance(sslmode, cls):
            return sslmode
        return getattr(cls, str(sslmode).replace("-", "_"))  # type: ignore[no-any-return]
