"""Without the compiled extension, ``auto`` falls back to pure Python and says so.

pip shows a build's own output only with ``-v``, so an install without a C
compiler is announced at import (a RuntimeWarning) and by ``--version``. The
missing extension is simulated in a child process with
``sys.modules["pgwire._speedups"] = None``, which makes its import fail as an
uninstalled module's does.
"""

from __future__ import annotations

import os
import subprocess
import sys

WITHOUT_EXTENSION = "import sys; sys.modules['pgwire._speedups'] = None; "


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PGWIRE_")}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTENSION + code],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=60,
        check=False,
    )


def test_auto_without_the_extension_warns_once_and_runs_pure_python() -> None:
    result = run("import pgwire, pgwire._impl as i; print(i.IMPL, '|', i.IMPL_NOTE)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "python | the compiled extension is not installed"
    assert result.stderr.count("RuntimeWarning: pgwire runs its pure-Python implementation") == 1


def test_version_says_the_pure_python_implementation_is_active_and_why() -> None:
    result = run("from pgwire.cli import main; main(['--version'])")
    assert "(pure-Python implementation: the compiled extension is not installed;" in (
        result.stdout
    )


def test_choosing_pure_python_explicitly_does_not_warn() -> None:
    result = run("import pgwire", PGWIRE_IMPL="python")
    assert result.returncode == 0
    assert "Warning" not in result.stderr


def test_require_compiled_without_the_extension_is_an_import_error() -> None:
    result = run("import pgwire", PGWIRE_REQUIRE_COMPILED="1")
    assert result.returncode == 1
    assert "ImportError" in result.stderr
    assert "the compiled extension is not installed" in result.stderr
