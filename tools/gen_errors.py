#!/usr/bin/env python3
"""Generate ``src/pgwire/exceptions/_generated.py`` from PostgreSQL's ``errcodes.txt``.

One class per SQLSTATE, named as asyncpg names it (those names are public API):

* the condition name is CamelCased, a trailing ``_exception``/``_error`` word is dropped and
  ``Error`` appended (warnings of classes 01 and 02 get no suffix);
* acronyms keep their capitals (``SQL``, ``FDW``, ``PLPGSQL``, ``IO``);
* a name that would shadow a Python builtin gets a ``Postgres`` prefix
  (``SyntaxError`` -> ``PostgresSyntaxError``);
* ``NAME_OVERRIDES`` holds the names where asyncpg departs from that rule.

The parent of a code is its class-level code (``23000`` for ``23505``) when that exists,
otherwise ``PostgresError`` (errors) or ``PostgresWarning`` (warnings). ``01000`` itself is
``PostgresWarning(PostgresLogMessage, Warning)``.

Usage::

    python tools/gen_errors.py [--errcodes PATH] [--output PATH]
    python tools/gen_errors.py --check   # exit 1 when the committed file is stale
"""

from __future__ import annotations

import argparse
import builtins
import glob
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "pgwire" / "exceptions" / "_generated.py"
ERRCODES_GLOB = "/usr/share/postgresql/*/errcodes.txt"

ACRONYMS = {"sql": "SQL", "fdw": "FDW", "plpgsql": "PLPGSQL", "io": "IO"}

NAME_OVERRIDES = {
    "08001": "ClientCannotConnectError",
    "08004": "ConnectionRejectionError",
    "38002": "ModifyingExternalRoutineSQLDataNotPermittedError",
    "38003": "ProhibitedExternalRoutineSQLStatementAttemptedError",
    "38004": "ReadingExternalRoutineSQLDataNotPermittedError",
    "39004": "NullValueInExternalRoutineNotAllowedError",
    "40001": "SerializationError",
    "42000": "SyntaxOrAccessError",
    "P0004": "AssertError",
    "XX000": "InternalServerError",
}

# Codes added by PostgreSQL releases newer than the oldest errcodes.txt this project is
# generated from. Merging them in keeps the class set (and the output) the same whichever
# server version's errcodes.txt is read; entries present in the file take precedence.
LATER_CODES = {
    "10608": ("E", "invalid_argument_for_xquery"),
    "25P04": ("E", "transaction_timeout"),
    "58P03": ("E", "file_name_too_long"),
}

LINE_RE = re.compile(
    r"""^(?P<code>[0-9A-Z]{5}) \s+ (?P<kind>[EWS]) \s+ (?P<macro>ERRCODE_\w+)
        (?: \s+ (?P<name>\w+) )? \s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Code:
    sqlstate: str
    kind: str  # "E" error, "W" warning
    condition: str


def parse_errcodes(text: str) -> dict[str, Code]:
    """Return the codes of *text* keyed by SQLSTATE.

    Success codes (kind ``S``) are skipped. A SQLSTATE listed on several lines (macro
    aliases) takes the first condition name given; only when none of its lines has one is
    the name derived from the first macro.
    """
    codes: dict[str, Code] = {}
    named: set[str] = set()
    for line in text.splitlines():
        match = LINE_RE.match(line)
        if match is None or match["kind"] == "S" or match["code"] in named:
            continue
        sqlstate = match["code"]
        if match["name"]:
            named.add(sqlstate)
            codes[sqlstate] = Code(sqlstate, match["kind"], match["name"])
        elif sqlstate not in codes:
            condition = match["macro"].removeprefix("ERRCODE_").lower()
            codes[sqlstate] = Code(sqlstate, match["kind"], condition)
    return codes


def class_name(code: Code) -> str:
    """Return the asyncpg-compatible class name for *code*."""
    override = NAME_OVERRIDES.get(code.sqlstate)
    if override is not None:
        return override
    words = code.condition.split("_")
    is_error = code.kind == "E"
    if is_error and len(words) > 1 and words[-1] in ("exception", "error"):
        words = words[:-1]
    name = "".join(ACRONYMS.get(word, word.capitalize()) for word in words)
    if is_error:
        name += "Error"
    if hasattr(builtins, name):
        name = "Postgres" + name
    return name


def base_names(code: Code, names: dict[str, str]) -> str:
    """Return the source text of the base-class list for *code*."""
    if code.sqlstate == "01000":
        return "PostgresLogMessage, Warning"
    class_code = code.sqlstate[:2] + "000"
    if class_code != code.sqlstate and class_code in names:
        return names[class_code]
    return "PostgresError" if code.kind == "E" else "PostgresWarning"


def render(codes: dict[str, Code]) -> str:
    """Return the text of the generated module for *codes*."""
    merged = dict(codes)
    for sqlstate, (kind, condition) in LATER_CODES.items():
        merged.setdefault(sqlstate, Code(sqlstate, kind, condition))
    ordered = [merged[sqlstate] for sqlstate in sorted(merged)]
    names = {code.sqlstate: class_name(code) for code in ordered}
    seen: dict[str, str] = {}
    for sqlstate, name in names.items():
        if name in seen:
            raise SystemExit(f"class name {name} given to both {seen[name]} and {sqlstate}")
        seen[name] = sqlstate

    out = [
        "# Generated by tools/gen_errors.py from PostgreSQL's errcodes.txt. Do not edit;",
        "# rerun `python tools/gen_errors.py` instead.",
        '"""One exception class per SQLSTATE, named as asyncpg names them."""',
        "",
        "from __future__ import annotations",
        "",
        "from ._base import PostgresError, PostgresLogMessage",
        "",
        "__all__ = (",
        *(f'    "{names[code.sqlstate]}",' for code in ordered),
        ")",
    ]
    for code in ordered:
        out += [
            "",
            "",
            f"class {names[code.sqlstate]}({base_names(code, names)}):",
            f'    """SQLSTATE {code.sqlstate}: {code.condition}."""',
            "",
            f'    sqlstate = "{code.sqlstate}"',
        ]
    return "\n".join(out) + "\n"


def newest_errcodes() -> Path:
    """Return the errcodes.txt of the newest PostgreSQL installed under /usr/share."""

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", Path(path).parent.name))

    candidates = sorted(glob.glob(ERRCODES_GLOB), key=version)
    if not candidates:
        raise SystemExit(f"no errcodes.txt matches {ERRCODES_GLOB}; pass --errcodes PATH")
    return Path(candidates[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errcodes", type=Path, help="path to PostgreSQL's errcodes.txt")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the output file is not current"
    )
    args = parser.parse_args(argv)

    errcodes = args.errcodes or newest_errcodes()
    text = render(parse_errcodes(errcodes.read_text(encoding="utf-8")))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run tools/gen_errors.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
