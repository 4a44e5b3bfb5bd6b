"""Make third-party ``import asyncpg`` get pgwire (:func:`install_as_asyncpg`)."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
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
    "asyncpg.exceptions._base": "pgwire.exceptions._base",
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
    if not any(isinstance(f, _AsyncpgAlias) for f in sys.meta_path):
        sys.meta_path.insert(0, _AsyncpgAlias())
    return sys.modules["asyncpg"]


class _AsyncpgAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import asyncpg.X`` for any other X gives pgwire's module ``pgwire.X`` itself.

    Without it Python would load ``pgwire/X.py`` a second time under the name
    ``asyncpg.X`` (``asyncpg`` is pgwire, whose ``__path__`` it searches), and
    that copy's classes would not be the ones pgwire uses.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("asyncpg."):
            return None
        alias = "pgwire." + fullname[len("asyncpg.") :]
        try:
            found = importlib.util.find_spec(alias)
        except (ImportError, ValueError):
            return None
        if found is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module("pgwire." + spec.name[len("asyncpg.") :])
        spec.loader_state = module.__spec__  # the import system overwrites __spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # pgwire's module is loaded already; give it back its own spec.
        own = module.__spec__.loader_state if module.__spec__ is not None else None
        if own is not None:
            module.__spec__ = own
