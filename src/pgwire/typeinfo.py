"""Types the driver does not know in advance: catalog introspection and custom codecs.

:class:`TypeMethods` is mixed into :class:`pgwire.Connection`; it provides
``set_type_codec``, ``reset_type_codec``, ``set_builtin_type_codec`` and the
introspection of user-defined types that ``_prepare_state`` calls for type
OIDs that have no codec yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["TypeMethods"]


class TypeMethods:
    """Type-related methods of :class:`pgwire.Connection`."""

    __slots__ = ()

    async def _introspect_types(self, ctx: Any, oids: Iterable[int]) -> None:
        """Register codecs for ``oids`` (none of them builtin) in this connection's registry."""
