"""Every exception asyncpg exports exists in pgwire with the same SQLSTATE and ancestry."""

from __future__ import annotations

import pytest

import pgwire.exceptions as pgwire_exceptions

asyncpg_exceptions = pytest.importorskip("asyncpg.exceptions")

ASYNCPG_NAMES = sorted(asyncpg_exceptions.__all__)


def _ancestry(cls: type) -> list[str]:
    return [base.__name__ for base in cls.__mro__]


def test_exported_names_are_exactly_asyncpgs() -> None:
    assert sorted(pgwire_exceptions.__all__) == ASYNCPG_NAMES


@pytest.mark.parametrize("name", ASYNCPG_NAMES)
def test_class_exists_with_the_same_sqlstate(name: str) -> None:
    theirs = getattr(asyncpg_exceptions, name)
    ours = getattr(pgwire_exceptions, name)

    assert getattr(ours, "sqlstate", None) == getattr(theirs, "sqlstate", None)


@pytest.mark.parametrize("name", ASYNCPG_NAMES)
def test_class_has_the_same_ancestry(name: str) -> None:
    theirs = getattr(asyncpg_exceptions, name)
    ours = getattr(pgwire_exceptions, name)

    assert _ancestry(ours) == _ancestry(theirs)


@pytest.mark.parametrize("sqlstate", ["23505", "42601", "0A000", "XX999"])
def test_server_error_maps_to_the_class_asyncpg_picks(sqlstate: str) -> None:
    fields = {"S": "ERROR", "C": sqlstate, "M": "boom"}
    theirs = asyncpg_exceptions.PostgresError.new(fields)
    ours = pgwire_exceptions.error_from_fields(fields)

    assert type(ours).__name__ == type(theirs).__name__
    assert str(ours) == str(theirs)
