"""``asyncpg.pgproto.pgproto``: the UUID class decoded ``uuid`` values have.

asyncpg decodes to its own :class:`uuid.UUID` subclass; pgwire decodes to
:class:`uuid.UUID` itself, so ``isinstance(value, UUID)`` holds either way.
"""

from uuid import UUID

__all__ = ("UUID",)
