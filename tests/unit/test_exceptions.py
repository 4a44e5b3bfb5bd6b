"""The exception hierarchy: class choice by SQLSTATE, field mapping, messages, generator."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

from pgwire import exceptions as exc
from pgwire.exceptions import error_from_fields, log_message_from_fields
from pgwire.exceptions._base import message_class_for_sqlstate

ROOT = Path(__file__).resolve().parents[2]

ALL_FIELDS = {
    "S": "ERROR",
    "V": "ERROR",
    "C": "23505",
    "M": 'duplicate key value violates unique constraint "t_pkey"',
    "D": "Key (id)=(1) already exists.",
    "H": "Use another key.",
    "P": "15",
    "p": "3",
    "q": "SELECT 1",
    "W": 'SQL function "f"',
    "s": "public",
    "t": "t",
    "c": "id",
    "d": "int4",
    "n": "t_pkey",
    "F": "nbtinsert.c",
    "L": "664",
    "R": "_bt_check_unique",
}

ALL_ATTRIBUTES = {
    "severity": "ERROR",
    "severity_en": "ERROR",
    "sqlstate": "23505",
    "message": 'duplicate key value violates unique constraint "t_pkey"',
    "detail": "Key (id)=(1) already exists.",
    "hint": "Use another key.",
    "position": "15",
    "internal_position": "3",
    "internal_query": "SELECT 1",
    "context": 'SQL function "f"',
    "schema_name": "public",
    "table_name": "t",
    "column_name": "id",
    "data_type_name": "int4",
    "constraint_name": "t_pkey",
    "server_source_filename": "nbtinsert.c",
    "server_source_line": "664",
    "server_source_function": "_bt_check_unique",
}


def error(sqlstate: str, message: str = "boom", **more: str) -> exc.PostgresError:
    return error_from_fields({"S": "ERROR", "C": sqlstate, "M": message, **more})


# --- choosing the class -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("23505", exc.UniqueViolationError),
        ("42601", exc.PostgresSyntaxError),
        ("08003", exc.ConnectionDoesNotExistError),
        ("22000", exc.DataError),
        ("40P01", exc.DeadlockDetectedError),
        ("57014", exc.QueryCanceledError),
    ],
)
def test_error_class_is_picked_by_exact_sqlstate(
    sqlstate: str, expected: type[exc.PostgresError]
) -> None:
    assert type(error(sqlstate)) is expected


def test_specific_error_is_caught_by_its_class_level_parent() -> None:
    with pytest.raises(exc.IntegrityConstraintViolationError):
        raise error("23505")


def test_class_level_codes_derive_from_postgres_error() -> None:
    assert exc.IntegrityConstraintViolationError.__bases__ == (exc.PostgresError,)


def test_unknown_sqlstate_gives_unknown_postgres_error_keeping_the_code() -> None:
    err = error("ZZ123")

    assert type(err) is exc.UnknownPostgresError
    assert isinstance(err, exc.FatalPostgresError)
    assert err.sqlstate == "ZZ123"


def test_unlisted_code_in_a_known_class_is_unknown_not_the_class_parent() -> None:
    assert type(error("23999")) is exc.UnknownPostgresError


def test_error_without_sqlstate_is_unknown() -> None:
    assert type(error_from_fields({"S": "FATAL", "M": "bye"})) is exc.UnknownPostgresError


def test_error_response_with_a_warning_sqlstate_is_still_an_exception() -> None:
    assert type(error("01000")) is exc.UnknownPostgresError


def test_every_generated_class_is_registered_under_its_sqlstate() -> None:
    from pgwire.exceptions import _generated

    for name in _generated.__all__:
        cls = getattr(_generated, name)
        assert message_class_for_sqlstate(cls.sqlstate) is cls, name


def test_user_subclass_with_a_sqlstate_does_not_replace_the_registered_class() -> None:
    class MyUniqueViolation(exc.UniqueViolationError):
        sqlstate = "23505"

    assert type(error("23505")) is exc.UniqueViolationError


# --- fields and text ----------------------------------------------------------------------


def test_every_field_code_becomes_its_attribute() -> None:
    err = error_from_fields(ALL_FIELDS)

    assert {name: getattr(err, name) for name in ALL_ATTRIBUTES} == ALL_ATTRIBUTES


def test_absent_fields_are_none() -> None:
    err = error("42601")

    assert err.detail is None
    assert err.hint is None
    assert err.position is None
    assert err.constraint_name is None


def test_unknown_field_codes_are_ignored() -> None:
    assert error("42601", Z="?").as_dict() == {
        "severity": "ERROR",
        "sqlstate": "42601",
        "message": "boom",
    }


def test_query_is_attached_when_given() -> None:
    err = error_from_fields({"C": "42601", "M": "syntax"}, query="SELEC 1")

    assert err.query == "SELEC 1"


def test_as_dict_lists_the_present_server_fields_only() -> None:
    err = error_from_fields(ALL_FIELDS, query="INSERT ...")

    assert err.as_dict() == ALL_ATTRIBUTES


def test_str_is_the_message_when_there_is_no_detail_or_hint() -> None:
    assert str(error("42601", "syntax error at end of input")) == "syntax error at end of input"


def test_str_appends_detail_and_hint() -> None:
    err = error("23505", "dup", D="Key exists.", H="Pick another.")

    assert str(err) == "dup\nDETAIL:  Key exists.\nHINT:  Pick another."


def test_str_appends_hint_without_detail() -> None:
    assert str(error("42601", "bad", H="Fix it.")) == "bad\nHINT:  Fix it."


def test_postgres_error_new_is_error_from_fields() -> None:
    err = exc.PostgresError.new({"C": "23505", "M": "dup"}, query="q")

    assert type(err) is exc.UniqueViolationError
    assert err.query == "q"


# --- refinements asyncpg makes --------------------------------------------------------------


def test_plan_revalidation_failure_becomes_invalid_cached_statement_error() -> None:
    err = error("0A000", "cached plan must not change result type", R="RevalidateCachedQuery")

    assert type(err) is exc.InvalidCachedStatementError
    assert isinstance(err, exc.FeatureNotSupportedError)
    assert "cached statement plan is invalid" in str(err)
    assert err.message == "cached plan must not change result type"


def test_other_feature_not_supported_errors_stay_as_they_are() -> None:
    assert type(error("0A000", R="transformSelectStmt")) is exc.FeatureNotSupportedError


@pytest.mark.parametrize("sqlstate", ["42P05", "26000"])
def test_prepared_statement_errors_explain_pgbouncer(sqlstate: str) -> None:
    err = error(sqlstate)

    assert err.hint is not None
    assert "pgbouncer" in err.hint
    assert "statement_cache_size=0" in err.hint


def test_pgbouncer_note_follows_the_servers_own_hint() -> None:
    err = error("42P05", H="server hint")

    assert err.hint is not None
    assert err.hint.startswith("server hint\n\n")


# --- client-side construction ---------------------------------------------------------------


def test_server_error_class_can_be_raised_by_the_client_with_a_message() -> None:
    err = exc.DataError("invalid input for query argument $1: 'x' (expected int)")

    assert str(err) == "invalid input for query argument $1: 'x' (expected int)"
    assert err.message == "invalid input for query argument $1: 'x' (expected int)"
    assert err.sqlstate == "22000"
    assert err.detail is None


def test_client_raised_error_accepts_detail_and_hint() -> None:
    err = exc.DataError("bad", detail="why", hint="how")

    assert str(err) == "bad\nDETAIL:  why\nHINT:  how"


# --- log messages (NoticeResponse) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("01000", exc.PostgresWarning),
        ("01P01", exc.DeprecatedFeature),
        ("02000", exc.NoData),
        ("02001", exc.NoAdditionalDynamicResultSetsReturned),
    ],
)
def test_notice_with_a_warning_sqlstate_gets_its_warning_class(
    sqlstate: str, expected: type[exc.PostgresLogMessage]
) -> None:
    message = log_message_from_fields({"S": "WARNING", "C": sqlstate, "M": "careful"})

    assert type(message) is expected
    assert isinstance(message, Warning)


def test_warning_classes_derive_from_postgres_log_message_and_warning() -> None:
    assert issubclass(exc.DeprecatedFeature, exc.PostgresWarning)
    assert issubclass(exc.NoData, exc.PostgresWarning)
    assert exc.PostgresWarning.__bases__ == (exc.PostgresLogMessage, Warning)


def test_notice_without_a_warning_class_is_a_plain_log_message() -> None:
    message = log_message_from_fields(
        {"S": "NOTICE", "V": "NOTICE", "C": "42P07", "M": 'relation "t" already exists'}
    )

    assert type(message) is exc.PostgresLogMessage
    assert message.sqlstate == "42P07"
    assert message.severity == "NOTICE"


def test_warning_severity_with_a_non_warning_code_is_a_postgres_warning() -> None:
    message = log_message_from_fields(
        {"S": "WARNUNG", "V": "WARNING", "C": "25P01", "M": "no transaction"}
    )

    assert type(message) is exc.PostgresWarning


def test_log_message_carries_every_field() -> None:
    message = log_message_from_fields({**ALL_FIELDS, "S": "NOTICE", "C": "00000"})

    assert message.as_dict() == {**ALL_ATTRIBUTES, "severity": "NOTICE", "sqlstate": "00000"}


def test_log_message_str_names_its_class() -> None:
    message = log_message_from_fields({"S": "NOTICE", "C": "00000", "M": "hello"})

    assert str(message) == "PostgresLogMessage: hello"


def test_warning_str_names_its_class() -> None:
    message = log_message_from_fields({"S": "WARNING", "C": "01P01", "M": "old"})

    assert str(message) == "DeprecatedFeature: old"


def test_log_message_is_immutable() -> None:
    message = log_message_from_fields({"S": "NOTICE", "C": "00000", "M": "hello"})

    with pytest.raises(TypeError):
        message.message = "changed"


def test_warning_log_message_can_be_emitted_with_warnings_module() -> None:
    message = log_message_from_fields({"S": "WARNING", "C": "01000", "M": "careful"})
    assert isinstance(message, Warning)

    with pytest.warns(exc.PostgresWarning):
        warnings.warn(message, stacklevel=1)


# --- client errors --------------------------------------------------------------------------


def test_interface_error_str_appends_detail_and_hint() -> None:
    err = exc.InterfaceError("cannot do that", detail="because", hint="do this")

    assert str(err) == "cannot do that\nDETAIL:  because\nHINT:  do this"


def test_with_msg_keeps_type_detail_hint_and_traceback() -> None:
    try:
        raise exc.ClientConfigurationError("old", detail="d", hint="h")
    except exc.ClientConfigurationError as caught:
        original = caught

    copy = original.with_msg("new")

    assert type(copy) is exc.ClientConfigurationError
    assert (copy.args, copy.detail, copy.hint) == (("new",), "d", "h")
    assert copy.__traceback__ is original.__traceback__


def test_client_configuration_error_is_a_value_error() -> None:
    assert issubclass(exc.ClientConfigurationError, ValueError)
    assert issubclass(exc.ClientConfigurationError, exc.InterfaceError)


@pytest.mark.parametrize(
    "cls", [exc.UnsupportedClientFeatureError, exc.UnsupportedServerFeatureError]
)
def test_unsupported_feature_errors_are_interface_errors(cls: type[exc.InterfaceError]) -> None:
    assert issubclass(cls, exc.InterfaceError)


def test_interface_warning_is_a_user_warning_with_detail() -> None:
    warning = exc.InterfaceWarning("careful", detail="d")

    assert isinstance(warning, UserWarning)
    assert str(warning) == "careful\nDETAIL:  d"


@pytest.mark.parametrize(
    "cls", [exc.ProtocolError, exc.OutdatedSchemaCacheError, exc.TargetServerAttributeNotMatched]
)
def test_internal_errors_derive_from_internal_client_error(cls: type[Exception]) -> None:
    assert issubclass(cls, exc.InternalClientError)
    assert not issubclass(cls, exc.PostgresError)


def test_outdated_schema_cache_error_records_what_went_stale() -> None:
    err = exc.OutdatedSchemaCacheError("stale", schema="s", data_type="t", position="2")

    assert (err.schema_name, err.data_type_name, err.position) == ("s", "t", "2")
    assert str(err) == "stale"


def test_classes_present_themselves_as_members_of_the_package() -> None:
    assert exc.UniqueViolationError.__module__ == "pgwire.exceptions"
    assert exc.PostgresError.__module__ == "pgwire.exceptions"


# --- the generator --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gen_errors() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_errors", ROOT / "tools" / "gen_errors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_errors"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("23505    E    ERRCODE_UNIQUE_VIOLATION    unique_violation", "UniqueViolationError"),
        ("22000    E    ERRCODE_DATA_EXCEPTION    data_exception", "DataError"),
        (
            "2202E    E    ERRCODE_ARRAY_SUBSCRIPT_ERROR    array_subscript_error",
            "ArraySubscriptError",
        ),
        ("42601    E    ERRCODE_SYNTAX_ERROR    syntax_error", "PostgresSyntaxError"),
        ("58030    E    ERRCODE_IO_ERROR    io_error", "PostgresIOError"),
        ("HV000    E    ERRCODE_FDW_ERROR    fdw_error", "FDWError"),
        (
            "25P02    E    ERRCODE_IN_FAILED_SQL_TRANSACTION    in_failed_sql_transaction",
            "InFailedSQLTransactionError",
        ),
        (
            "01P01    W    ERRCODE_WARNING_DEPRECATED_FEATURE    deprecated_feature",
            "DeprecatedFeature",
        ),
        ("01000    W    ERRCODE_WARNING    warning", "PostgresWarning"),
        ("XX000    E    ERRCODE_INTERNAL_ERROR    internal_error", "InternalServerError"),
    ],
)
def test_generator_names_classes_as_asyncpg_does(
    gen_errors: ModuleType, line: str, name: str
) -> None:
    (code,) = gen_errors.parse_errcodes(line).values()

    assert gen_errors.class_name(code) == name


def test_generator_prefers_the_alias_line_that_has_a_condition_name(
    gen_errors: ModuleType,
) -> None:
    text = (
        "2202E    E    ERRCODE_ARRAY_ELEMENT_ERROR\n"
        "2202E    E    ERRCODE_ARRAY_SUBSCRIPT_ERROR    array_subscript_error\n"
    )

    assert gen_errors.parse_errcodes(text)["2202E"].condition == "array_subscript_error"


def test_generator_skips_success_codes_and_comments(gen_errors: ModuleType) -> None:
    text = (
        "# 00000 E ERRCODE_X x\n"
        "Section: Class 00 - Successful Completion\n"
        "00000    S    ERRCODE_SUCCESSFUL_COMPLETION    successful_completion\n"
    )

    assert gen_errors.parse_errcodes(text) == {}


@pytest.mark.skipif(
    not list(Path("/usr/share/postgresql").glob("*/errcodes.txt")),
    reason="PostgreSQL's errcodes.txt is not installed",
)
def test_generated_module_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_errors.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
