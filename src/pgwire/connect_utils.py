"""``asyncpg.connect_utils``: connection-parameter resolution under asyncpg's module name.

asyncpg keeps its DSN and environment parsing here (private); pgwire's lives in
:mod:`pgwire.connect_params`, re-exported below with the SSLRequest code of the
protocol (PostgreSQL docs, "Message Formats": ``SSLRequest``).
"""

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
    "_SSL_REQUEST_CODE",
    "parse_connect_arguments",
)

#: The protocol code of an SSLRequest packet (1234 << 16 | 5679).
_SSL_REQUEST_CODE = 80877103
