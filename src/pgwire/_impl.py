"""The one place that chooses between the pure-Python and the compiled implementation.

``PGWIRE_IMPL=python`` forces the pure-Python reference, ``compiled`` requires
the ``pgwire._speedups`` extension, ``auto`` (the default) uses it when it
imports. ``PGWIRE_REQUIRE_COMPILED=1`` turns a missing or broken extension
into an ImportError even in ``auto`` mode. When ``auto`` falls back to pure
Python on CPython because the extension is missing or broken (an install
without a C compiler, where pip shows the build's own warning only with
``-v``), a :class:`RuntimeWarning` says so once per process; choosing
``PGWIRE_IMPL=python`` explicitly silences it. :data:`IMPL_NOTE` tells why
the active implementation was chosen (``python -m pgwire --version`` prints
it). Every other module takes the hot pieces from here, never from
``_speedups`` directly:

* ``Record``, ``RecordDescriptor``, ``make_record``: the row type the driver
  builds (``pgwire.record`` always holds the pure reference; ``pgwire.Record``
  is this one, so only one Record class is in use per process);
* ``decode_row``: the DataRow -> Record loop;
* ``consume_results``: a run of result messages (DataRow, BindComplete,
  CommandComplete) in the receive buffer;
* ``bind_execute_batch``: Bind + Execute messages for argument sets;
* ``encode_copy_rows``: binary COPY tuples for records;
* :func:`codec_twin`: the compiled twin of a pure codec function, used once
  when the builtin codec registry is assembled.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from . import record as _py_record
from .protocol import messages as _py_messages
from .protocol import rows as _py_rows

__all__ = [
    "IMPL",
    "IMPL_NOTE",
    "Record",
    "RecordDescriptor",
    "bind_execute_batch",
    "codec_twin",
    "compiled_twins",
    "consume_results",
    "decode_row",
    "encode_copy_rows",
    "make_record",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _load_compiled() -> tuple[ModuleType | None, str]:
    """The extension, or ``None`` and why it cannot be used."""
    try:
        from . import _speedups  # type: ignore[attr-defined,unused-ignore]
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith(__package__ + "._speedups"):
            return None, "the compiled extension is not installed"
        return None, f"the compiled extension cannot be imported ({exc})"
    except ImportError as exc:
        return None, f"the compiled extension cannot be imported ({exc})"
    return _speedups, ""  # type: ignore[return-value,unused-ignore]


def _select() -> tuple[str, ModuleType | None, str]:
    requested = os.environ.get("PGWIRE_IMPL", "auto").strip().lower() or "auto"
    if requested not in ("auto", "python", "compiled"):
        raise ImportError(f"PGWIRE_IMPL must be python, compiled or auto, not {requested!r}")
    require = os.environ.get("PGWIRE_REQUIRE_COMPILED", "") not in ("", "0")
    if requested == "python" and not require:
        return "python", None, "chosen by PGWIRE_IMPL=python"
    compiled, why_not = _load_compiled()
    if compiled is None:
        if requested == "compiled" or require:
            raise ImportError(
                "the compiled pgwire extension (pgwire._speedups) is required by "
                f"PGWIRE_IMPL/PGWIRE_REQUIRE_COMPILED but could not be imported: {why_not}"
            )
        if sys.implementation.name == "cpython":
            warnings.warn(
                f"pgwire runs its pure-Python implementation: {why_not}. It is complete but "
                "slower; install a wheel built for this platform, or install from source with "
                "a C compiler present. PGWIRE_IMPL=python chooses pure Python and silences "
                "this warning.",
                RuntimeWarning,
                stacklevel=2,
            )
        return "python", None, why_not
    if requested == "python":
        return "python", None, "chosen by PGWIRE_IMPL=python"
    return "compiled", compiled, "Cython extension pgwire._speedups"


def _command_line_invoked() -> bool:
    """Whether this import is ``python -m pgwire`` (or ``pgwire.cli``) loading its package.

    While ``runpy`` imports the package of a ``-m`` module, ``sys.argv[0]`` is
    still ``"-m"``; the module's name is in ``sys.orig_argv`` (Python 3.10+).
    """
    if not sys.argv or sys.argv[0] != "-m":
        return False
    argv = list(getattr(sys, "orig_argv", ()))
    for i, arg in enumerate(argv[1:], 1):
        if arg == "-m" and i + 1 < len(argv):
            module = argv[i + 1]
        elif arg.startswith("-m") and len(arg) > 2:
            module = arg[2:]
        else:
            continue
        return module in ("pgwire", "pgwire.__main__", "pgwire.cli")
    return False


def _command_line_exit(problem: ImportError) -> None:
    """End ``python -m pgwire`` in one line when no implementation can be loaded.

    Exit status 1, no traceback (``--debug`` keeps it); ``--version`` still
    prints the version, read from the installed metadata.
    """
    args = sys.argv[1:]
    if not _command_line_invoked() or "--debug" in args:
        return
    if "--version" in args:
        try:
            from importlib.metadata import version

            print(f"pgwire {version('pgwire')} (no usable implementation)")
        except Exception:  # noqa: BLE001 (the metadata is optional here)
            pass
    print(f"python -m pgwire: error: {problem}", file=sys.stderr)
    raise SystemExit(1)


try:
    IMPL, _compiled, IMPL_NOTE = _select()
except ImportError as _problem:
    _command_line_exit(_problem)
    raise
# IMPL: "python" or "compiled", the implementation in use in this process. IMPL_NOTE: why,
# in words ("the compiled extension is not installed", "chosen by PGWIRE_IMPL=python", ...).

if TYPE_CHECKING:
    from .record import Record, RecordDescriptor, make_record
else:
    _record_impl = _compiled if _compiled is not None else _py_record
    Record = _record_impl.Record
    RecordDescriptor = _record_impl.RecordDescriptor
    make_record = _record_impl.make_record
    # Unpickling builds records of the implementation in use (see pgwire.record).
    _py_record.active_implementation = (Record, RecordDescriptor, make_record)

decode_row: Any = _compiled.decode_row if _compiled is not None else _py_rows.decode_row
"""The DataRow -> Record loop (pure-Python reference; a compiled twin has the same name)."""

#: Pure twin: :func:`pgwire.protocol.rows.consume_results`.
consume_results: Callable[[bytearray, int, int, Any], int] = (
    _compiled.consume_results if _compiled is not None else _py_rows.consume_results
)
#: Pure twin: :func:`pgwire.protocol.messages.bind_execute_batch`.
bind_execute_batch: Callable[..., bytes] = (
    _compiled.bind_execute_batch if _compiled is not None else _py_messages.bind_execute_batch
)
#: Pure twin: :func:`pgwire.protocol.messages.encode_copy_rows`.
encode_copy_rows: Callable[..., tuple[bool, int]] = (
    _compiled.encode_copy_rows if _compiled is not None else _py_messages.encode_copy_rows
)


def compiled_twins() -> dict[str, Callable[..., Any]]:
    """``"module.name"`` (under ``pgwire.codecs``) -> compiled twin; empty for pure Python."""
    if _compiled is None:
        return {}
    twins: dict[str, Callable[..., Any]] = _compiled.TWINS
    return twins


def _twin_key(pure: Callable[..., Any]) -> str | None:
    module = sys.modules.get(getattr(pure, "__module__", "") or "")
    if module is None or not module.__name__.startswith("pgwire.codecs."):
        return None
    for name in getattr(module, "__all__", ()):
        if getattr(module, name, None) is pure:
            return f"{module.__name__.rpartition('.')[2]}.{name}"
    return None


def codec_twin(pure: _F) -> _F:
    """The compiled twin of the pure codec function ``pure``, or ``pure`` itself.

    Twins are matched by the name ``pure`` is exported under in its
    ``pgwire.codecs`` module; with the pure implementation selected (or no
    twin for that function) the argument is returned unchanged.
    """
    twins = compiled_twins()
    if not twins:
        return pure
    key = _twin_key(pure)
    if key is None:
        return pure
    return twins.get(key, pure)  # type: ignore[return-value]
