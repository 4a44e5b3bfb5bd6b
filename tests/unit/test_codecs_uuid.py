"""Binary codec for uuid."""

from __future__ import annotations

import uuid

import pytest

from pgwire.codecs.uuid import uuid_decode, uuid_encode

TEXT = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
WIRE = b"k\xa7\xb8\x10\x9d\xad\x11\xd1\x80\xb4\x00\xc0O\xd40\xc8"


def test_uuid_golden_bytes() -> None:
    assert uuid_encode(uuid.UUID(TEXT)) == WIRE
    assert uuid_decode(WIRE) == uuid.UUID(TEXT)


def test_uuid_encoder_accepts_str() -> None:
    assert uuid_encode(TEXT) == WIRE


def test_uuid_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="a UUID or str is required"):
        uuid_encode(5)


def test_uuid_rejects_malformed_str() -> None:
    with pytest.raises(ValueError):
        uuid_encode("not-a-uuid")
