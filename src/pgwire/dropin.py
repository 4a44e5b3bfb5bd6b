"""Make third-party ``import asyncpg`` get pgwire (:func:`install_as_asyncpg`)."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ("ASYNCPG_MODULES", "install_as_asyncpg")

#: asyncpg's importable modules -> the pgwire module that stands in for each
#: (asyncpg 0.32's package layout).
ASYNCPG_MODULES: dict[str, str] = {
    "asyncpg": "pgwire",
    "asyncpg.connection": "pgwire.connection",
    "asyncpg.pool": "pgwire.pool",
    "asyncpg.transaction": "pgwire.transaction",
    "asyncpg.cursor": "pgwire.cursor",
    "asyncpg.prepared_stmt": "pgwire.prepared_stmt",
    "asyncpg.exceptions": "pgwire.exceptions",
    "asyncpg.types": "pgwire.types",
    "asyncpg.serverversion": "pgwire.serverversion",
    "asyncpg.introspection": "pgwire.introspection",
    "asyncpg.utils": "pgwire.utils",
    "asyncpg.connect_utils": "pgwire.connect_utils",
    "asyncpg.protocol": "pgwire.protocol",
    "asyncpg.pgproto": "pgwire.pgproto",
    "asyncpg.pgproto.pgproto": "pgwire.pgproto.pgproto",
    "asyncpg.pgproto.types": "pgwire.pgproto.types",
}


def install_as_asyncpg() -> ModuleType:
    """Make ``import asyncpg`` (and its submodules) return pgwire's modules.

    Call it once, before the code that imports asyncpg is imported: afterwards
    ``import asyncpg``, ``from asyncpg.pool import Pool`` and the other modules
    in :data:`ASYNCPG_MODULES` resolve to pgwire, whether or not asyncpg is
    installed. Calling it again changes nothing. Returns the ``pgwire`` module.

    Raises :class:`RuntimeError` when a real asyncpg module was imported first:
    objects from both drivers would then mix in one process.
    """
    for name, target in ASYNCPG_MODULES.items():
        present = sys.modules.get(name)
        if present is not None and getattr(present, "__name__", None) != target:
            raise RuntimeError(
                f"{name} ({getattr(present, '__file__', present)!r}) was imported before "
                "install_as_asyncpg(); call it before anything imports asyncpg"
            )
    for name, target in ASYNCPG_MODULES.items():
        sys.modules[name] = importlib.import_module(target)
    return sys.modules["asyncpg"]
