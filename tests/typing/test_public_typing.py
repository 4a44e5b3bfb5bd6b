"""The public API type-checks in user code: ``mypy --strict`` accepts record_usage.py."""

from __future__ import annotations

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

HERE = Path(__file__).resolve().parent


def test_user_code_using_records_type_checks_under_strict_mypy() -> None:
    stdout, stderr, status = mypy_api.run(
        ["--strict", "--no-error-summary", str(HERE / "record_usage.py")]
    )
    assert status == 0, stdout + stderr
