"""Binary codec for ``uuid``: 16 raw bytes <-> :class:`uuid.UUID`.

The encoder accepts a :class:`uuid.UUID` or its string form.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

__all__ = ["uuid_encode", "uuid_decode"]


def uuid_encode(value: Any) -> bytes:
    if isinstance(value, UUID):
        return value.bytes
    if isinstance(value, str):
        return UUID(value).bytes
    raise TypeError(f"a UUID or str is required (got type {type(value).__name__})")


def uuid_decode(data: bytes) -> UUID:
    return UUID(bytes=bytes(data))
