"""Compiled twins of the hottest binary codecs in :mod:`pgwire.codecs`.

Every public function here has the name and contract of a pure-Python
function (listed in :data:`TWINS`). The compiled code handles the common
case; anything unusual (an unexpected Python type, an out-of-range value, a
malformed or out-of-range payload) is handed to the pure function, so results
and exceptions are the pure ones by construction.

``decode_value`` is the C-level entry used by the DataRow loop and the array
decoder: a per-column integer ``code`` (from ``code_of``, chosen once per
statement) selects an inline decoder, so builtin types cost no Python call.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.datetime cimport date_new, datetime_new, import_datetime, time_new, timedelta_new
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.stdint cimport int16_t, int32_t, int64_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

import datetime as _dt
import decimal as _decimal
import uuid as _uuid

import importlib as _importlib

import_datetime()


cdef class _Pure:
    """A pure-Python codec function, imported on first call.

    The pure modules import the registry, which asks :mod:`pgwire._impl` for
    these twins: importing them eagerly here would be circular.
    """

    cdef str module
    cdef str name
    cdef object func

    def __init__(self, str module, str name):
        self.module = module
        self.name = name
        self.func = None

    def __call__(self, *args):
        if self.func is None:
            self.func = getattr(_importlib.import_module("pgwire.codecs." + self.module), self.name)
        return self.func(*args)


cdef object _P_array_make_array_codec = _Pure("array", "make_array_codec")
cdef object _P_datetime_date_decode = _Pure("datetime", "date_decode")
cdef object _P_datetime_interval_decode = _Pure("datetime", "interval_decode")
cdef object _P_datetime_time_decode = _Pure("datetime", "time_decode")
cdef object _P_datetime_timestamp_decode = _Pure("datetime", "timestamp_decode")
cdef object _P_datetime_timestamptz_decode = _Pure("datetime", "timestamptz_decode")
cdef object _P_json_json_decode = _Pure("json", "json_decode")
cdef object _P_json_json_encode = _Pure("json", "json_encode")
cdef object _P_json_jsonb_decode = _Pure("json", "jsonb_decode")
cdef object _P_json_jsonb_encode = _Pure("json", "jsonb_encode")
cdef object _P_numeric_bool_decode = _Pure("numeric", "bool_decode")
cdef object _P_numeric_bool_encode = _Pure("numeric", "bool_encode")
cdef object _P_numeric_float4_decode = _Pure("numeric", "float4_decode")
cdef object _P_numeric_float4_encode = _Pure("numeric", "float4_encode")
cdef object _P_numeric_float8_decode = _Pure("numeric", "float8_decode")
cdef object _P_numeric_float8_encode = _Pure("numeric", "float8_encode")
cdef object _P_numeric_int2_decode = _Pure("numeric", "int2_decode")
cdef object _P_numeric_int2_encode = _Pure("numeric", "int2_encode")
cdef object _P_numeric_int4_decode = _Pure("numeric", "int4_decode")
cdef object _P_numeric_int4_encode = _Pure("numeric", "int4_encode")
cdef object _P_numeric_int8_decode = _Pure("numeric", "int8_decode")
cdef object _P_numeric_int8_encode = _Pure("numeric", "int8_encode")
cdef object _P_numeric_numeric_decode = _Pure("numeric", "numeric_decode")
cdef object _P_numeric_uint4_decode = _Pure("numeric", "uint4_decode")
cdef object _P_numeric_uint8_decode = _Pure("numeric", "uint8_decode")
cdef object _P_text_bytea_decode = _Pure("text", "bytea_decode")
cdef object _P_text_bytea_encode = _Pure("text", "bytea_encode")
cdef object _P_text_text_decode = _Pure("text", "text_decode")
cdef object _P_text_text_encode = _Pure("text", "text_encode")
cdef object _P_uuid_uuid_decode = _Pure("uuid", "uuid_decode")

cdef object _UTC = _dt.timezone.utc
cdef object _DATE_MAX = _dt.date.max
cdef object _DATE_MIN = _dt.date.min
cdef object _DATETIME_MAX = _dt.datetime.max
cdef object _DATETIME_MIN = _dt.datetime.min
cdef object _Decimal = _decimal.Decimal
cdef object _UUID = _uuid.UUID
cdef object _UUID_UNKNOWN = _uuid.SafeUUID.unknown
cdef object _object_setattr = object.__setattr__
cdef bytes _TRUE = b"\x01"
cdef bytes _FALSE = b"\x00"

cdef int64_t _EPOCH_ORDINAL = 730120  # date(2000, 1, 1).toordinal()
cdef int64_t _US_PER_DAY = 86400000000
cdef int64_t _MAX_ORDINAL = 3652059  # date.max.toordinal()

DEF C_GENERIC = 0
DEF C_INT2 = 1
DEF C_INT4 = 2
DEF C_INT8 = 3
DEF C_FLOAT4 = 4
DEF C_FLOAT8 = 5
DEF C_BOOL = 6
DEF C_TEXT = 7
DEF C_BYTEA = 8
DEF C_TIMESTAMP = 9
DEF C_TIMESTAMPTZ = 10
DEF C_DATE = 11
DEF C_NUMERIC = 12
DEF C_UUID = 13
DEF C_UINT4 = 14
DEF C_JSONB = 15
DEF C_INTERVAL = 16
DEF C_TIME = 17
DEF C_UINT8 = 18
DEF C_ARRAY = 19  # an ArrayDecoder: one-dimensional arrays decoded in place


# --- byte readers --------------------------------------------------------------

cdef inline uint16_t _u16(const unsigned char* p) noexcept nogil:
    return <uint16_t>((<uint16_t>p[0] << 8) | p[1])


cdef inline uint32_t _u32(const unsigned char* p) noexcept nogil:
    return ((<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16)
            | (<uint32_t>p[2] << 8) | <uint32_t>p[3])


cdef inline uint64_t _u64(const unsigned char* p) noexcept nogil:
    return (<uint64_t>_u32(p) << 32) | <uint64_t>_u32(p + 4)


cdef inline double _f32(const unsigned char* p) noexcept nogil:
    cdef uint32_t bits = _u32(p)
    cdef float value
    memcpy(&value, &bits, 4)
    return <double>value


cdef inline double _f64(const unsigned char* p) noexcept nogil:
    cdef uint64_t bits = _u64(p)
    cdef double value
    memcpy(&value, &bits, 8)
    return value


cdef inline void _civil(int64_t ordinal, int* y, int* m, int* d) noexcept nogil:
    # Proleptic Gregorian date of a day number (days since 0000-03-01 era form).
    cdef int64_t z = ordinal - 719163 + 719468  # days since 1970-01-01, shifted to 0000-03-01
    cdef int64_t era = (z if z >= 0 else z - 146096) // 146097
    cdef int64_t doe = z - era * 146097
    cdef int64_t yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    cdef int64_t doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    cdef int64_t mp = (5 * doy + 2) // 153
    cdef int64_t dd = doy - (153 * mp + 2) // 5 + 1
    cdef int64_t mm = mp + 3 if mp < 10 else mp - 9
    y[0] = <int>(yoe + era * 400 + (1 if mm <= 2 else 0))
    m[0] = <int>mm
    d[0] = <int>dd


cdef inline int64_t _floordiv(int64_t a, int64_t b) noexcept nogil:
    cdef int64_t q = a // b
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q -= 1
    return q


# --- decoders at C level ---------------------------------------------------------

cdef inline object _fallback(object decoder, const unsigned char* p, Py_ssize_t n):
    """``decoder`` called with a copy of the payload: the unusual-value path."""
    return decoder(PyBytes_FromStringAndSize(<const char*>p, n))


cdef object _timestamp(const unsigned char* p, object tz, object fallback):
    cdef int64_t micros = <int64_t>_u64(p)
    if micros == 0x7FFFFFFFFFFFFFFF:
        return _DATETIME_MAX
    if micros == <int64_t>(-0x7FFFFFFFFFFFFFFF - 1):
        return _DATETIME_MIN
    cdef int64_t days = _floordiv(micros, _US_PER_DAY)
    cdef int64_t rest = micros - days * _US_PER_DAY
    cdef int64_t ordinal = _EPOCH_ORDINAL + days
    if ordinal < 1 or ordinal > _MAX_ORDINAL:
        return _fallback(fallback, p, 8)
    cdef int y, m, d
    _civil(ordinal, &y, &m, &d)
    cdef int64_t secs = rest // 1000000
    return datetime_new(y, m, d, <int>(secs // 3600), <int>((secs // 60) % 60), <int>(secs % 60),
                        <int>(rest % 1000000), tz)


cdef object _numeric(const unsigned char* p, Py_ssize_t n, object fallback):
    if n < 8:
        return _fallback(fallback, p, n)
    cdef int ndigits = <int16_t>_u16(p)
    cdef int weight = <int16_t>_u16(p + 2)
    cdef int sign = _u16(p + 4)
    cdef int dscale = _u16(p + 6)
    if (sign != 0 and sign != 0x4000) or ndigits < 0 or n < 8 + 2 * ndigits:
        return _fallback(fallback, p, n)
    # "[-]<digits>E-<dscale>": the digits rescaled to exponent -dscale (as the pure
    # codec does), parsed by Decimal.
    cdef int shift = 4 * (weight - ndigits + 1) + dscale
    # An integer ending in zero groups keeps the exponent form, as asyncpg
    # returns it: "<digits>E+<shift>" (see the pure codec).
    cdef bint exponent_form = dscale == 0 and shift > 0 and ndigits > 0
    cdef Py_ssize_t length = 4 * ndigits
    cdef Py_ssize_t total = length + (shift if shift > 0 and not exponent_form else 0)
    if total > 100000:
        return _fallback(fallback, p, n)
    cdef char small[96]
    cdef bytearray big = None
    cdef char* out = small
    if total + 16 > 96:
        big = bytearray(total + 16)
        out = big
    cdef Py_ssize_t at = 0
    if sign == 0x4000:
        out[0] = 45  # '-'
        at = 1
    cdef char* digits = out + at
    cdef int i, digit
    cdef Py_ssize_t k
    for i in range(ndigits):
        digit = _u16(p + 8 + 2 * i)
        if digit > 9999:
            return _fallback(fallback, p, n)
        digits[4 * i] = <char>(48 + digit // 1000)
        digits[4 * i + 1] = <char>(48 + (digit // 100) % 10)
        digits[4 * i + 2] = <char>(48 + (digit // 10) % 10)
        digits[4 * i + 3] = <char>(48 + digit % 10)
    if exponent_form:
        pass
    elif shift > 0:
        for k in range(length, total):
            digits[k] = 48
        length = total
    elif shift < 0:
        length += shift
    if length <= 0:
        digits[0] = 48
        length = 1
    at += length
    out[at] = 69  # 'E'
    out[at + 1] = 43 if exponent_form else 45  # '+' or '-'
    at += 2
    # dscale is at most 0x3FFF, the shift at most 4 * 0x8000: six decimal digits.
    cdef char exponent[8]
    cdef int e = 0
    cdef int scale = shift if exponent_form else dscale
    while True:
        exponent[e] = <char>(48 + scale % 10)
        e += 1
        scale //= 10
        if scale == 0:
            break
    while e > 0:
        e -= 1
        out[at] = exponent[e]
        at += 1
    return _Decimal(PyUnicode_DecodeASCII(out, at, NULL))


cdef object _uuid_from(const unsigned char* p):
    value = _UUID.__new__(_UUID)
    _object_setattr(value, "int", int.from_bytes(PyBytes_FromStringAndSize(<const char*>p, 16), "big"))
    _object_setattr(value, "is_safe", _UUID_UNKNOWN)
    return value


cdef object decode_value(int code, const unsigned char* p, Py_ssize_t n, object decoder):
    """Decode one non-NULL value of ``n`` bytes at ``p`` with the codec ``code`` stands for."""
    cdef int64_t v64
    cdef int32_t v32
    if code == C_TEXT:
        return PyUnicode_DecodeUTF8(<const char*>p, n, NULL)
    if code == C_INT4 and n == 4:
        return <int32_t>_u32(p)
    if code == C_INT8 and n == 8:
        return <int64_t>_u64(p)
    if code == C_INT2 and n == 2:
        return <int16_t>_u16(p)
    if code == C_FLOAT8 and n == 8:
        return _f64(p)
    if code == C_FLOAT4 and n == 4:
        return _f32(p)
    if code == C_BOOL:
        return True if (n == 1 and p[0] == 1) else False
    if code == C_BYTEA:
        return PyBytes_FromStringAndSize(<const char*>p, n)
    if code == C_TIMESTAMPTZ and n == 8:
        return _timestamp(p, _UTC, decoder)
    if code == C_TIMESTAMP and n == 8:
        return _timestamp(p, None, decoder)
    if code == C_NUMERIC:
        return _numeric(p, n, decoder)
    if code == C_DATE and n == 4:
        v32 = <int32_t>_u32(p)
        if v32 == 0x7FFFFFFF:
            return _DATE_MAX
        if v32 == <int32_t>(-0x7FFFFFFF - 1):
            return _DATE_MIN
        v64 = _EPOCH_ORDINAL + v32
        if 1 <= v64 <= _MAX_ORDINAL:
            return _date_from_ordinal(v64)
    elif code == C_UUID and n == 16:
        return _uuid_from(p)
    elif code == C_UINT4 and n == 4:
        return _u32(p)
    elif code == C_UINT8 and n == 8:
        return _u64(p)
    elif code == C_JSONB and n >= 1 and p[0] == 1:
        return PyUnicode_DecodeUTF8(<const char*>(p + 1), n - 1, NULL)
    elif code == C_TIME and n == 8:
        v64 = <int64_t>_u64(p)
        if 0 <= v64 < _US_PER_DAY:
            return time_new(<int>(v64 // 3600000000), <int>((v64 // 60000000) % 60),
                            <int>((v64 // 1000000) % 60), <int>(v64 % 1000000), None)
    elif code == C_INTERVAL and n == 16:
        return _interval(p, decoder)
    elif code == C_ARRAY:
        array = <ArrayDecoder>decoder
        result = decode_array_at(p, n, array.code, array.element_decode)
        if result is not None:
            return result
        return array.pure_decode(PyBytes_FromStringAndSize(<const char*>p, n))
    return decoder(PyBytes_FromStringAndSize(<const char*>p, n))


cdef object _date_from_ordinal(int64_t ordinal):
    cdef int y, m, d
    _civil(ordinal, &y, &m, &d)
    return date_new(y, m, d)


cdef object _interval(const unsigned char* p, object fallback):
    cdef int64_t micros = <int64_t>_u64(p)
    cdef int64_t days = <int32_t>_u32(p + 8)
    cdef int64_t months = <int32_t>_u32(p + 12)
    cdef int64_t extra = _floordiv(micros, _US_PER_DAY)
    cdef int64_t rest = micros - extra * _US_PER_DAY
    # Whole years count 365 days, the remaining months 30 (C division truncates toward zero).
    cdef int64_t total = days + (months / 12) * 365 + (months % 12) * 30 + extra
    if total > 999999999 or total < -999999999:
        return _fallback(fallback, p, 16)
    return timedelta_new(<int>total, <int>(rest // 1000000), <int>(rest % 1000000))


# --- Python-level decoders: the twins ----------------------------------------------

cdef object _decode(int code, object data, object pure):
    cdef Py_ssize_t n
    if type(data) is not bytes:
        return pure(data)
    n = len(<bytes>data)
    return decode_value(code, <const unsigned char*>(<char*>(<bytes>data)), n, pure)


def int2_decode(data):
    return _decode(C_INT2, data, _P_numeric_int2_decode)

def int4_decode(data):
    return _decode(C_INT4, data, _P_numeric_int4_decode)

def int8_decode(data):
    return _decode(C_INT8, data, _P_numeric_int8_decode)

def uint4_decode(data):
    return _decode(C_UINT4, data, _P_numeric_uint4_decode)

def uint8_decode(data):
    return _decode(C_UINT8, data, _P_numeric_uint8_decode)

def float4_decode(data):
    return _decode(C_FLOAT4, data, _P_numeric_float4_decode)

def float8_decode(data):
    return _decode(C_FLOAT8, data, _P_numeric_float8_decode)

def bool_decode(data):
    return _decode(C_BOOL, data, _P_numeric_bool_decode)

def numeric_decode(data):
    return _decode(C_NUMERIC, data, _P_numeric_numeric_decode)

def text_decode(data):
    return _decode(C_TEXT, data, _P_text_text_decode)

def bytea_decode(data):
    return _decode(C_BYTEA, data, _P_text_bytea_decode)

def json_decode(data):
    return _decode(C_TEXT, data, _P_json_json_decode)

def jsonb_decode(data):
    return _decode(C_JSONB, data, _P_json_jsonb_decode)

def uuid_decode(data):
    return _decode(C_UUID, data, _P_uuid_uuid_decode)

def date_decode(data):
    return _decode(C_DATE, data, _P_datetime_date_decode)

def time_decode(data):
    return _decode(C_TIME, data, _P_datetime_time_decode)

def timestamp_decode(data):
    return _decode(C_TIMESTAMP, data, _P_datetime_timestamp_decode)

def timestamptz_decode(data):
    return _decode(C_TIMESTAMPTZ, data, _P_datetime_timestamptz_decode)

def interval_decode(data):
    return _decode(C_INTERVAL, data, _P_datetime_interval_decode)


# --- Python-level encoders: fast path for exact types, the pure function otherwise --



cdef inline bytes _pack_be(uint64_t v, int size):
    cdef unsigned char out[8]
    cdef int i
    for i in range(size):
        out[size - 1 - i] = <unsigned char>(v & 0xFF)
        v >>= 8
    return PyBytes_FromStringAndSize(<const char*>out, size)


cdef inline object _int_encode(object value, int size, int64_t lo, int64_t hi, object pure):
    cdef long long v
    cdef int overflow = 0
    if type(value) is int:
        try:
            v = value
        except OverflowError:
            return pure(value)
        if lo <= v <= hi:
            return _pack_be(<uint64_t>v, size)
    return pure(value)


def int2_encode(value):
    return _int_encode(value, 2, -32768, 32767, _P_numeric_int2_encode)

def int4_encode(value):
    return _int_encode(value, 4, -2147483648, 2147483647, _P_numeric_int4_encode)

def int8_encode(value):
    return _int_encode(value, 8, -9223372036854775807 - 1, 9223372036854775807, _P_numeric_int8_encode)


def float8_encode(value):
    cdef double f
    cdef uint64_t bits
    if type(value) is float:
        f = value
        memcpy(&bits, &f, 8)
        return _pack_be(bits, 8)
    return _P_numeric_float8_encode(value)


def float4_encode(value):
    cdef double f
    cdef float g
    cdef uint32_t bits
    if type(value) is float:
        f = value
        if -3.4028234663852886e38 <= f <= 3.4028234663852886e38:
            g = <float>f
            memcpy(&bits, &g, 4)
            return _pack_be(bits, 4)
    return _P_numeric_float4_encode(value)


def bool_encode(value):
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    return _P_numeric_bool_encode(value)


def text_encode(value):
    if type(value) is str:
        return (<str>value).encode("utf-8")
    return _P_text_text_encode(value)


def bytea_encode(value):
    if type(value) is bytes:
        return value
    return _P_text_bytea_encode(value)


def json_encode(value):
    if type(value) is str:
        return (<str>value).encode("utf-8")
    return _P_json_json_encode(value)


def jsonb_encode(value):
    if type(value) is str:
        return _TRUE + (<str>value).encode("utf-8")
    return _P_json_jsonb_encode(value)


# --- arrays ------------------------------------------------------------------------

cdef class ArrayDecoder:
    """The decode function of an array codec: one C loop over the elements.

    The DataRow loop recognises it (``code_of``) and decodes arrays straight
    from the row payload, without a Python call or a copy of the value.
    """

    def __call__(self, data):
        if type(data) is not bytes:
            return self.pure_decode(data)
        result = decode_array_at(<const unsigned char*>(<char*>data), len(data), self.code,
                                 self.element_decode)
        if result is None:
            return self.pure_decode(data)
        return result


cdef object decode_array_at(const unsigned char* p, Py_ssize_t n, int code,
                            object element_decode):
    """The array in the ``n`` bytes at ``p``, or None when the payload is unusual
    (the pure decoder decides)."""
    if n < 12:
        return None
    cdef int32_t ndim = <int32_t>_u32(p)
    if ndim == 0:
        return []
    if ndim != 1 or n < 20:
        return None
    cdef int32_t count = <int32_t>_u32(p + 12)
    if count < 0:
        return None
    cdef Py_ssize_t pos = 20
    cdef int32_t size
    cdef list items = [None] * count
    cdef Py_ssize_t i
    for i in range(count):
        if pos + 4 > n:
            return None
        size = <int32_t>_u32(p + pos)
        pos += 4
        if size < 0:
            continue
        if pos + size > n:
            return None
        items[i] = decode_value(code, p + pos, size, element_decode)
        pos += size
    return items


def make_array_codec(array_oid, element, name):
    """Twin of :func:`pgwire.codecs.array.make_array_codec` with a compiled decoder."""
    codec = _P_array_make_array_codec(array_oid, element, name)
    cdef ArrayDecoder decoder = ArrayDecoder.__new__(ArrayDecoder)
    decoder.element_decode = element.decode
    decoder.pure_decode = codec.decode
    decoder.code = code_of(element.decode)
    codec.decode = decoder
    return codec


# --- registry of twins ----------------------------------------------------------------

#: "module.name" of the pure function -> its compiled twin.
TWINS = {
    "numeric.int2_decode": int2_decode,
    "numeric.int4_decode": int4_decode,
    "numeric.int8_decode": int8_decode,
    "numeric.uint4_decode": uint4_decode,
    "numeric.uint8_decode": uint8_decode,
    "numeric.float4_decode": float4_decode,
    "numeric.float8_decode": float8_decode,
    "numeric.bool_decode": bool_decode,
    "numeric.numeric_decode": numeric_decode,
    "numeric.int2_encode": int2_encode,
    "numeric.int4_encode": int4_encode,
    "numeric.int8_encode": int8_encode,
    "numeric.float4_encode": float4_encode,
    "numeric.float8_encode": float8_encode,
    "numeric.bool_encode": bool_encode,
    "text.text_decode": text_decode,
    "text.text_encode": text_encode,
    "text.bytea_decode": bytea_decode,
    "text.bytea_encode": bytea_encode,
    "json.json_decode": json_decode,
    "json.json_encode": json_encode,
    "json.jsonb_decode": jsonb_decode,
    "json.jsonb_encode": jsonb_encode,
    "uuid.uuid_decode": uuid_decode,
    "datetime.date_decode": date_decode,
    "datetime.time_decode": time_decode,
    "datetime.timestamp_decode": timestamp_decode,
    "datetime.timestamptz_decode": timestamptz_decode,
    "datetime.interval_decode": interval_decode,
    "array.make_array_codec": make_array_codec,
}

cdef dict _CODES = {
    int2_decode: C_INT2,
    int4_decode: C_INT4,
    int8_decode: C_INT8,
    uint4_decode: C_UINT4,
    uint8_decode: C_UINT8,
    float4_decode: C_FLOAT4,
    float8_decode: C_FLOAT8,
    bool_decode: C_BOOL,
    numeric_decode: C_NUMERIC,
    text_decode: C_TEXT,
    json_decode: C_TEXT,
    bytea_decode: C_BYTEA,
    jsonb_decode: C_JSONB,
    uuid_decode: C_UUID,
    date_decode: C_DATE,
    time_decode: C_TIME,
    timestamp_decode: C_TIMESTAMP,
    timestamptz_decode: C_TIMESTAMPTZ,
    interval_decode: C_INTERVAL,
}


cdef int code_of(object decoder) except -1:
    """The inline-decoder code for ``decoder`` (0: call it)."""
    if type(decoder) is ArrayDecoder:
        return C_ARRAY
    try:
        return _CODES.get(decoder, C_GENERIC)
    except TypeError:
        return C_GENERIC
