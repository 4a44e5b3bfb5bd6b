"""The protocol package is sans-I/O: importing it loads neither asyncio, socket nor ssl.

Checked in a fresh interpreter, because this test process has long imported them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("asyncio", "socket", "ssl")

PROTOCOL_MODULES = (
    "pgwire.protocol",
    "pgwire.protocol.auth",
    "pgwire.protocol.core",
    "pgwire.protocol.messages",
    "pgwire.protocol.rows",
)

# Registers the ``pgwire`` package without running its ``__init__`` (which imports the
# asyncio connection layer on purpose), so only the protocol modules and what they
# import themselves are loaded.
BARE_PACKAGE = (
    "import importlib.util, types\n"
    "spec = importlib.util.find_spec('pgwire')\n"
    "pkg = types.ModuleType('pgwire')\n"
    "pkg.__path__ = list(spec.submodule_search_locations)\n"
    "sys.modules['pgwire'] = pkg\n"
)


def modules_loaded_by(module: str, *, bare_package: bool = False) -> set[str]:
    code = (
        "import sys, importlib\n"
        + (BARE_PACKAGE if bare_package else "")
        + f"importlib.import_module({module!r})\n"
        + f"print(' '.join(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("module", PROTOCOL_MODULES)
def test_protocol_module_and_its_dependencies_load_no_io_module(module: str) -> None:
    assert modules_loaded_by(module, bare_package=True) == set()


def test_plain_import_of_the_protocol_core_loads_no_io_module() -> None:
    assert modules_loaded_by("pgwire.protocol.core") == set()


def test_the_check_would_notice_an_io_import() -> None:
    assert modules_loaded_by("asyncio") >= {"asyncio", "socket"}
