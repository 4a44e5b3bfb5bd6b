"""asyncpg's ``asyncpg.pgproto`` package: the value types the codecs produce.

In asyncpg this is a compiled package; code written for it imports
``asyncpg.pgproto.pgproto.UUID`` (to recognise decoded UUIDs) and
``asyncpg.pgproto.types`` (the geometry and bit-string types). Here both
resolve to the classes pgwire's codecs use.
"""

from pgwire.pgproto import pgproto, types

__all__ = ("pgproto", "types")
