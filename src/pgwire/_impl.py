"""The one place that chooses between the pure-Python and the compiled implementation.

``PGWIRE_IMPL=python`` forces the pure-Python reference, ``compiled`` requires
the ``pgwire._speedups`` extension, ``auto`` (the default) uses it when it
imports. ``PGWIRE_REQUIRE_COMPILED=1`` turns a missing or broken extension
into an ImportError even in ``auto`` mode. Every other module takes the hot
functions from here, never from ``_speedups`` directly.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from .protocol import rows as _py_rows

__all__ = ["IMPL", "decode_row"]


def _load_compiled() -> ModuleType | None:
    try:
        from . import _speedups  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _speedups  # type: ignore[no-any-return]


def _select() -> tuple[str, ModuleType | None]:
    requested = os.environ.get("PGWIRE_IMPL", "auto").strip().lower() or "auto"
    if requested not in ("auto", "python", "compiled"):
        raise ImportError(f"PGWIRE_IMPL must be python, compiled or auto, not {requested!r}")
    require = os.environ.get("PGWIRE_REQUIRE_COMPILED", "") not in ("", "0")
    if requested == "python" and not require:
        return "python", None
    compiled = _load_compiled()
    if compiled is None:
        if requested == "compiled" or require:
            raise ImportError(
                "the compiled pgwire extension (pgwire._speedups) is required by "
                "PGWIRE_IMPL/PGWIRE_REQUIRE_COMPILED but could not be imported"
            )
        return "python", None
    return "compiled", compiled


IMPL, _compiled = _select()

decode_row: Any = _compiled.decode_row if _compiled is not None else _py_rows.decode_row
