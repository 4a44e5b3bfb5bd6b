"""Unit-test fixtures: run hot-path tests over both implementations in one pytest run.

``impl`` is parametrised over ``"python"`` (the pure reference) and
``"compiled"`` (the ``pgwire._speedups`` twins; skipped when the extension is
not built, unless ``PGWIRE_REQUIRE_COMPILED=1``, which makes it a failure). It
is an :class:`Implementation`: the row loop, the Record type and a
``codec(pure_function)`` lookup giving that implementation's version of a
pure codec function. Test modules may define their own ``impl`` fixture,
which takes precedence over this one.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

IMPLEMENTATIONS = ("python", "compiled")


@dataclass(frozen=True)
class Implementation:
    """One implementation of the hot paths, as seen by tests."""

    name: str
    decode_row: Callable[..., Any]
    record: ModuleType
    twins: dict[str, Callable[..., Any]]

    def codec(self, pure: Callable[..., Any]) -> Callable[..., Any]:
        """This implementation's version of ``pure`` (a function of ``pgwire.codecs``)."""
        if self.name == "python":
            return pure
        module = importlib.import_module(pure.__module__)
        short = module.__name__.rpartition(".")[2]
        for name in getattr(module, "__all__", ()):
            if getattr(module, name) is pure and f"{short}.{name}" in self.twins:
                return self.twins[f"{short}.{name}"]
        return pure


def load_compiled() -> ModuleType:
    """``pgwire._speedups``, or skip (fail under ``PGWIRE_REQUIRE_COMPILED=1``)."""
    try:
        return importlib.import_module("pgwire._speedups")
    except ImportError:
        if os.environ.get("PGWIRE_REQUIRE_COMPILED", "") not in ("", "0"):
            raise
        pytest.skip("the compiled extension pgwire._speedups is not built")


def load_implementation(name: str) -> Implementation:
    if name == "python":
        from pgwire import record
        from pgwire.protocol import rows

        return Implementation("python", rows.decode_row, record, {})
    compiled = load_compiled()
    record_module = importlib.import_module("pgwire._speedups.record")
    return Implementation("compiled", compiled.decode_row, record_module, dict(compiled.TWINS))


@pytest.fixture(params=IMPLEMENTATIONS, scope="session")
def impl(request: pytest.FixtureRequest) -> Implementation:
    """Each implementation of the hot paths in turn."""
    return load_implementation(request.param)


@pytest.fixture(scope="session")
def compiled() -> ModuleType:
    """The compiled extension (skipped when not built, unless it is required)."""
    return load_compiled()
