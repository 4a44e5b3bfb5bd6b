"""Text-format array codecs, for arrays whose element type travels as text.

Decoding parses PostgreSQL's array literal (``{a,"b c",NULL,{...}}``, with an
optional ``[1:2]=`` dimension prefix) into nested lists of the element
decoder's results; encoding writes such a literal, quoting every element.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from typing import Any

from ._codec import Codec

__all__ = ["make_text_array_codec", "parse_array_literal"]

_NOT_CONTAINERS = (str, bytes, bytearray, memoryview)


def parse_array_literal(text: str, delimiter: str = ",") -> list[Any]:
    """Nested lists of ``str`` (``None`` for unquoted NULL) from an array literal."""
    pos = 0
    if text.startswith("["):
        pos = text.index("=") + 1
    if text[pos : pos + 1] != "{":
        raise ValueError(f"malformed array literal: {text!r}")
    stack: list[list[Any]] = []
    result: list[Any] = []
    size = len(text)
    while pos < size:
        char = text[pos]
        if char == "{":
            new: list[Any] = []
            if stack:
                stack[-1].append(new)
            else:
                result = new
            stack.append(new)
            pos += 1
        elif char == "}":
            stack.pop()
            pos += 1
            if not stack:
                break
        elif char == delimiter or char.isspace():
            pos += 1
        elif char == '"':
            pos += 1
            chars = []
            while text[pos] != '"':
                if text[pos] == "\\":
                    pos += 1
                chars.append(text[pos])
                pos += 1
            pos += 1
            stack[-1].append("".join(chars))
        else:
            start = pos
            while text[pos] not in (delimiter, "}"):
                pos += 1
            item = text[start:pos].strip()
            stack[-1].append(None if item.upper() == "NULL" else item)
    return result


def _quote(item: str) -> str:
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_text_array_codec(
    array_oid: int, element: Codec, name: str, delimiter: str = ","
) -> Codec:
    """A text-format codec for arrays of *element* (itself a text-format codec)."""
    elem_encode = element.encode
    elem_decode = element.decode

    def convert(items: list[Any]) -> list[Any]:
        return [
            None
            if item is None
            else convert(item)
            if isinstance(item, list)
            else elem_decode(item.encode("utf-8"))
            for item in items
        ]

    def literal(value: Any) -> str:
        if isinstance(value, _NOT_CONTAINERS) or not (
            isinstance(value, Sized) and isinstance(value, Iterable)
        ):
            raise TypeError(
                f"a sized iterable container expected (got type {type(value).__name__!r})"
            )
        parts = []
        for item in value:
            if item is None:
                parts.append("NULL")
            elif isinstance(item, (list, tuple)):
                parts.append(literal(item))
            else:
                parts.append(_quote(elem_encode(item).decode("utf-8")))
        return "{" + delimiter.join(parts) + "}"

    def encode(value: Any) -> bytes:
        return literal(value).encode("utf-8")

    def decode(data: bytes) -> list[Any]:
        return convert(parse_array_literal(data.decode("utf-8"), delimiter))

    return Codec(array_oid, name, encode, decode, schema=element.schema, kind="array", format=0)
