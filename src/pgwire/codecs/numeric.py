"""Binary codecs for booleans, integers, floats and ``numeric``.

Integer encoders accept ``int`` (and ``bool``) plus anything with
``__int__`` other than text, truncating like ``int()`` does -- asyncpg
accepts ``1.5`` for an ``int4`` parameter and sends ``1``. Out-of-range
values raise ``OverflowError``. ``numeric`` decodes to :class:`decimal.Decimal`
keeping the server's display scale (``1.500`` stays ``Decimal('1.500')``),
including ``NaN`` and ``±Infinity``.
"""

from __future__ import annotations

import struct
from decimal import Decimal
from typing import Any

__all__ = [
    "bool_encode",
    "bool_decode",
    "int2_encode",
    "int2_decode",
    "int4_encode",
    "int4_decode",
    "int8_encode",
    "int8_decode",
    "uint4_encode",
    "uint4_decode",
    "uint8_encode",
    "uint8_decode",
    "float4_encode",
    "float4_decode",
    "float8_encode",
    "float8_decode",
    "numeric_encode",
    "numeric_decode",
]

_int2 = struct.Struct("!h")
_int4 = struct.Struct("!i")
_int8 = struct.Struct("!q")
_uint4 = struct.Struct("!I")
_uint8 = struct.Struct("!Q")
_float4 = struct.Struct("!f")
_float8 = struct.Struct("!d")
_numeric_head = struct.Struct("!hhHH")

_TRUE = b"\x01"
_FALSE = b"\x00"

_FLOAT4_MAX = 3.4028234663852886e38


def bool_encode(value: Any) -> bytes:
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    raise TypeError(f"a boolean is required (got type {type(value).__name__})")


def bool_decode(data: bytes) -> bool:
    return data == _TRUE


def _as_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, (str, bytes, bytearray, memoryview)) or not hasattr(value, "__int__"):
        raise TypeError(f"an int is required (got type {type(value).__name__})")
    return int(value)


def _int_encoder(packer: struct.Struct, lo: int, hi: int, label: str) -> Any:
    pack = packer.pack

    def encode(value: Any) -> bytes:
        if type(value) is not int:
            value = _as_int(value)
        if not lo <= value <= hi:
            raise OverflowError(f"value out of {label} range (got {value})")
        return pack(value)

    encode.__name__ = f"{label}_encode"
    return encode


int2_encode = _int_encoder(_int2, -(2**15), 2**15 - 1, "int16")
int4_encode = _int_encoder(_int4, -(2**31), 2**31 - 1, "int32")
int8_encode = _int_encoder(_int8, -(2**63), 2**63 - 1, "int64")
uint4_encode = _int_encoder(_uint4, 0, 2**32 - 1, "uint32")
uint8_encode = _int_encoder(_uint8, 0, 2**64 - 1, "uint64")


def int2_decode(data: bytes) -> int:
    return _int2.unpack(data)[0]  # type: ignore[no-any-return]


def int4_decode(data: bytes) -> int:
    return _int4.unpack(data)[0]  # type: ignore[no-any-return]


def int8_decode(data: bytes) -> int:
    return _int8.unpack(data)[0]  # type: ignore[no-any-return]


def uint4_decode(data: bytes) -> int:
    return _uint4.unpack(data)[0]  # type: ignore[no-any-return]


def uint8_decode(data: bytes) -> int:
    return _uint8.unpack(data)[0]  # type: ignore[no-any-return]


def _as_float(value: Any) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, (str, bytes, bytearray, memoryview)) or not hasattr(value, "__float__"):
        raise TypeError(f"a float is required (got type {type(value).__name__})")
    return float(value)


def float4_encode(value: Any) -> bytes:
    f = value if type(value) is float else _as_float(value)
    if -_FLOAT4_MAX <= f <= _FLOAT4_MAX or f != f or f in (float("inf"), float("-inf")):
        try:
            return _float4.pack(f)
        except OverflowError:
            pass  # rounds past FLT_MAX
    raise OverflowError(f"value out of float32 range (got {f!r})")


def float4_decode(data: bytes) -> float:
    return _float4.unpack(data)[0]  # type: ignore[no-any-return]


def float8_encode(value: Any) -> bytes:
    return _float8.pack(value if type(value) is float else _as_float(value))


def float8_decode(data: bytes) -> float:
    return _float8.unpack(data)[0]  # type: ignore[no-any-return]


# numeric wire format: int16 ndigits, int16 weight, uint16 sign, uint16 dscale,
# then ndigits base-10000 digits; the value is sum(d[i] * 10000**(weight - i)).
_POS = 0x0000
_NEG = 0x4000
_NAN = 0xC000
_PINF = 0xD000
_NINF = 0xF000

_NAN_BYTES = _numeric_head.pack(0, 0, _NAN, 0)
_PINF_BYTES = _numeric_head.pack(0, 0, _PINF, 0)
_NINF_BYTES = _numeric_head.pack(0, 0, _NINF, 0)

_SPECIAL = {
    _NAN: Decimal("NaN"),
    _PINF: Decimal("Infinity"),
    _NINF: Decimal("-Infinity"),
}


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, float, str)):
        try:
            return Decimal(value)
        except ArithmeticError:
            raise ValueError(f"invalid numeric value {value!r}") from None
    raise TypeError(f"a Decimal, int, float or str is required (got type {type(value).__name__})")


#: PostgreSQL's numeric holds at most 131072 digits before the decimal point (the
#: base-10000 weight is an int16) and 16383 after it (NUMERIC_DSCALE_MAX); see
#: "Arbitrary Precision Numbers" in the PostgreSQL documentation.
NUMERIC_MAX_INT_DIGITS = 131072
NUMERIC_MAX_SCALE = 16383


def _out_of_range(d: Decimal) -> ValueError:
    shown = str(d)
    if len(shown) > 40:
        shown = f"{shown[:20]}...{shown[-12:]}"
    return ValueError(
        f"numeric value {shown} is out of PostgreSQL's range: at most "
        f"{NUMERIC_MAX_INT_DIGITS} digits before the decimal point and "
        f"{NUMERIC_MAX_SCALE} after it"
    )


def numeric_encode(value: Any) -> bytes:
    d = value if type(value) is Decimal else _as_decimal(value)
    if not d.is_finite():
        if d.is_nan():
            return _NAN_BYTES
        return _NINF_BYTES if d.is_signed() else _PINF_BYTES
    exp = d.as_tuple().exponent
    assert isinstance(exp, int)
    dscale = -exp if exp < 0 else 0
    if dscale > NUMERIC_MAX_SCALE or (d and d.adjusted() >= NUMERIC_MAX_INT_DIGITS):
        raise _out_of_range(d)
    text = format(d.copy_abs(), "f")
    if dscale:
        int_part, frac_part = text.split(".")
        frac_part += "0" * (-len(frac_part) % 4)
    else:
        int_part, frac_part = text, ""
    int_part = int_part.lstrip("0")
    int_part = "0" * (-len(int_part) % 4) + int_part
    digits = int_part + frac_part
    groups = [int(digits[i : i + 4]) for i in range(0, len(digits), 4)]
    weight = len(int_part) // 4 - 1
    start = 0
    end = len(groups)
    while start < end and groups[start] == 0:
        start += 1
        weight -= 1
    while end > start and groups[end - 1] == 0:
        end -= 1
    if start == end:
        return _numeric_head.pack(0, 0, _POS, dscale)
    ndigits = end - start
    if ndigits > 0x7FFF:  # the wire's digit count is an int16
        raise _out_of_range(d)
    sign = _NEG if d.is_signed() else _POS
    return _numeric_head.pack(ndigits, weight, sign, dscale) + struct.pack(
        f"!{ndigits}H", *groups[start:end]
    )


def numeric_decode(data: bytes) -> Decimal:
    ndigits, weight, sign, dscale = _numeric_head.unpack_from(data)
    if sign != _POS and sign != _NEG:
        special = _SPECIAL.get(sign)
        if special is None:
            raise ValueError(f"invalid numeric sign 0x{sign:04x}")
        return special
    groups = struct.unpack_from(f"!{ndigits}H", data, 8)
    if any(group > 9999 for group in groups):
        raise ValueError(f"invalid numeric digit {max(groups)} (base-10000 digits are 0 to 9999)")
    # Built as text, never through int: a numeric may have 131072 digits, more
    # than int <-> str conversion allows (sys.get_int_max_str_digits()).
    digits = "".join([f"{group:04d}" for group in groups])
    minus = "-" if sign == _NEG else ""
    shift = 4 * (weight - ndigits + 1) + dscale
    if dscale == 0 and shift > 0 and ndigits:
        # An integer ending in zero groups: exponent form, as asyncpg returns it
        # (10000 is Decimal('1E+4'), 1E+100000 stays Decimal('1E+100000')).
        return Decimal(f"{minus}{digits}E+{shift}")
    # Rescale the digits so the exponent is -dscale (keeps the display scale).
    if shift > 0:
        digits += "0" * shift
    elif shift < 0:
        digits = digits[:shift]
    return Decimal(f"{minus}{digits or '0'}E-{dscale}")
