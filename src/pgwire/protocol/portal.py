"""Named portals: the protocol side of server-side cursors, without I/O.

A portal is created by Bind with a name and fetched from with
``Execute(name, n)``; inside a transaction block it survives Sync, so each
fetch is its own operation ending with Sync. The server answers a fetch with
PortalSuspended when more rows remain and CommandComplete when the portal is
exhausted. A protocol-level named portal is visible to SQL ``FETCH`` and
``MOVE`` under the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import messages
from .core import CloseOperation, ExecuteOperation

__all__ = ["PortalFetchOperation", "bind_portal", "close_portal", "fetch_portal"]


class PortalFetchOperation(ExecuteOperation):
    """One round trip on a named portal: optional Bind, ``Execute(n)``, Sync.

    After it finished, ``rows`` holds the decoded rows and ``exhausted`` tells
    whether the portal has no more rows (CommandComplete rather than
    PortalSuspended).
    """

    __slots__ = ()

    def __init__(
        self,
        payload: bytes,
        *,
        decode_row: Callable[..., Any],
        decoders: Sequence[Callable[[bytes], Any]],
        desc: Any,
        record_class: Any,
    ) -> None:
        super().__init__(
            payload,
            decode_row=decode_row,
            decoders=decoders,
            desc=desc,
            record_class=record_class,
        )

    @property
    def exhausted(self) -> bool:
        return not self.suspended


def bind_portal(
    portal: str,
    statement: str,
    param_formats: Sequence[int],
    params: Sequence[bytes | None],
    result_formats: Sequence[int],
) -> bytes:
    """Bind ``statement`` with encoded ``params`` into the named ``portal``."""
    if not portal:
        raise ValueError("a cursor needs a named portal")
    return messages.bind_message(portal, statement, param_formats, params, result_formats)


def fetch_portal(portal: str, max_rows: int) -> bytes:
    """Execute up to ``max_rows`` rows of ``portal`` (0: all remaining), then Sync."""
    if max_rows < 0:
        raise ValueError("max_rows must not be negative")
    return messages.execute_message(portal, max_rows) + messages.SYNC


def close_portal(portal: str) -> CloseOperation:
    """An operation that closes ``portal`` (CloseOperation adds the Sync)."""
    return CloseOperation(messages.close_portal(portal))
