"""Compiled twins of the wire-level loops: Bind encoding, binary COPY rows, DataRow runs.

Same names, signatures and contracts as the pure functions in
:mod:`pgwire.protocol.messages` (``bind_execute_batch``, ``encode_copy_rows``)
and :mod:`pgwire.protocol.rows` (``consume_results``). Values whose
encoder is a compiled builtin encoder and whose type is the exact common one
(int, float, str, bytes, bool) are written straight into the output buffer;
every other value goes through its encoder, as in the pure code.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.unicode cimport PyUnicode_DecodeUTF8
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.string cimport memcpy

from .codecs import (
    bool_encode,
    bytea_encode,
    float4_encode,
    float8_encode,
    int2_encode,
    int4_encode,
    int8_encode,
    json_encode,
    text_encode,
)
from .record cimport RecordDescriptor
from .rows cimport decode_row_at
from .rows import decode_row

from cpython.ref cimport Py_DECREF, PyObject

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t* size) except NULL
    PyObject* PyIter_Next(object o) except? NULL
    bint PyList_CheckExact(object o)
    bint PyTuple_CheckExact(object o)


DEF E_GENERIC = 0
DEF E_INT2 = 1
DEF E_INT4 = 2
DEF E_INT8 = 3
DEF E_FLOAT4 = 4
DEF E_FLOAT8 = 5
DEF E_BOOL = 6
DEF E_TEXT = 7
DEF E_BYTEA = 8

cdef dict _ENCODE_CODES = {
    int2_encode: E_INT2,
    int4_encode: E_INT4,
    int8_encode: E_INT8,
    float4_encode: E_FLOAT4,
    float8_encode: E_FLOAT8,
    bool_encode: E_BOOL,
    text_encode: E_TEXT,
    json_encode: E_TEXT,
    bytea_encode: E_BYTEA,
}

cdef object _RowEncodeError = None


cdef object _row_encode_error():
    global _RowEncodeError
    if _RowEncodeError is None:
        from pgwire.protocol.messages import RowEncodeError
        _RowEncodeError = RowEncodeError
    return _RowEncodeError


# --- output buffer: a bytearray written through a raw pointer ---------------------------

cdef inline char* _grow(bytearray out, Py_ssize_t* length, Py_ssize_t extra) except NULL:
    """Extend ``out`` by ``extra`` bytes; a pointer to the first new byte."""
    cdef Py_ssize_t start = length[0]
    PyByteArray_Resize(out, start + extra)
    length[0] = start + extra
    return PyByteArray_AS_STRING(out) + start


cdef inline void _put32(char* p, uint32_t v) noexcept nogil:
    p[0] = <char>(v >> 24)
    p[1] = <char>(v >> 16)
    p[2] = <char>(v >> 8)
    p[3] = <char>v


cdef inline void _put64(char* p, uint64_t v) noexcept nogil:
    _put32(p, <uint32_t>(v >> 32))
    _put32(p + 4, <uint32_t>v)


cdef inline int _put_bytes(bytearray out, Py_ssize_t* length, const char* data,
                           Py_ssize_t size) except -1:
    if size > 0x7FFFFFFF - 4:
        raise OverflowError("value too large to send")
    cdef char* p = _grow(out, length, 4 + size)
    _put32(p, <uint32_t>size)
    memcpy(p + 4, data, size)
    return 0


cdef inline bint _inline_value(bytearray out, Py_ssize_t* length, int code, object value) except -1:
    """Write ``value`` (length + bytes) if ``code``'s fast path takes it; False otherwise."""
    cdef long long iv
    cdef int overflow = 0
    cdef double fv
    cdef float f4
    cdef uint32_t b32
    cdef uint64_t b64
    cdef Py_ssize_t size
    cdef const char* s
    cdef char* p
    if code == E_INT4 or code == E_INT8 or code == E_INT2:
        if type(value) is not int:
            return False
        iv = PyLong_AsLongLongAndOverflow(value, &overflow)
        if overflow:
            return False
        if code == E_INT4:
            if iv < -2147483648 or iv > 2147483647:
                return False
            p = _grow(out, length, 8)
            _put32(p, 4)
            _put32(p + 4, <uint32_t>iv)
        elif code == E_INT8:
            p = _grow(out, length, 12)
            _put32(p, 8)
            _put64(p + 4, <uint64_t>iv)
        else:
            if iv < -32768 or iv > 32767:
                return False
            p = _grow(out, length, 6)
            _put32(p, 2)
            p[4] = <char>(iv >> 8)
            p[5] = <char>iv
        return True
    if code == E_TEXT:
        if type(value) is not str:
            return False
        try:
            s = PyUnicode_AsUTF8AndSize(value, &size)
        except UnicodeError:
            return False  # the encoder raises the pure error
        _put_bytes(out, length, s, size)
        return True
    if code == E_FLOAT8:
        if type(value) is not float:
            return False
        fv = PyFloat_AS_DOUBLE(value)
        memcpy(&b64, &fv, 8)
        p = _grow(out, length, 12)
        _put32(p, 8)
        _put64(p + 4, b64)
        return True
    if code == E_BYTEA:
        if type(value) is not bytes:
            return False
        _put_bytes(out, length, PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value))
        return True
    if code == E_BOOL:
        if value is not True and value is not False:
            return False
        p = _grow(out, length, 5)
        _put32(p, 1)
        p[4] = 1 if value is True else 0
        return True
    if code == E_FLOAT4:
        if type(value) is not float:
            return False
        fv = PyFloat_AS_DOUBLE(value)
        if not (-3.4028234663852886e38 <= fv <= 3.4028234663852886e38):
            return False
        f4 = <float>fv
        memcpy(&b32, &f4, 4)
        p = _grow(out, length, 8)
        _put32(p, 4)
        _put32(p + 4, b32)
        return True
    return False


cdef inline int _put_value(bytearray out, Py_ssize_t* length, int code, object encode,
                           object value) except -1:
    """Write one non-NULL value: inline when possible, else through its encoder."""
    if code != E_GENERIC and _inline_value(out, length, code, value):
        return 0
    data = encode(value)
    if type(data) is not bytes:
        data = bytes(data)
    _put_bytes(out, length, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
    return 0


cdef bytes _codes(list encoders):
    cdef Py_ssize_t i, n = PyList_GET_SIZE(encoders)
    codes = bytearray(n)
    for i in range(n):
        try:
            codes[i] = _ENCODE_CODES.get(encoders[i], E_GENERIC)
        except TypeError:  # an unhashable encoder
            codes[i] = E_GENERIC
    return bytes(codes)


cdef inline object _item(object seq, Py_ssize_t i):
    if PyTuple_CheckExact(seq):
        return <object>PyTuple_GET_ITEM(seq, i)
    return <object>PyList_GET_ITEM(seq, i)


# --- Bind + Execute ---------------------------------------------------------------------

def bind_execute_batch(bytes head, encoders, rows, bytes tail, bytes execute):
    """Twin of :func:`pgwire.protocol.messages.bind_execute_batch`."""
    if type(encoders) is not list:
        encoders = list(encoders)
    cdef list encs = <list>encoders
    cdef Py_ssize_t count = PyList_GET_SIZE(encs)
    cdef bytes codes = _codes(encs)
    cdef const unsigned char* code_p = <const unsigned char*>PyBytes_AS_STRING(codes)
    cdef bytearray out = bytearray()
    cdef Py_ssize_t length = 0
    cdef Py_ssize_t start, i, nargs
    cdef Py_ssize_t head_n = len(head), tail_n = len(tail), exec_n = len(execute)
    cdef char* p
    for row in rows:
        if isinstance(row, list):
            nargs = PyList_GET_SIZE(row)
        elif isinstance(row, tuple):
            nargs = PyTuple_GET_SIZE(row)
        else:
            raise TypeError(f"expected a list or tuple of arguments, got {type(row).__name__}")
        if nargs != count:
            raise ValueError(f"expected {count} arguments, got {nargs}")
        start = length
        p = _grow(out, &length, 5 + head_n)
        p[0] = b"B"
        memcpy(p + 5, PyBytes_AS_STRING(head), head_n)
        for i in range(count):
            value = _item(row, i) if PyTuple_CheckExact(row) or PyList_CheckExact(row) else row[i]
            if value is None:
                _put32(_grow(out, &length, 4), 0xFFFFFFFF)
            else:
                _put_value(out, &length, code_p[i], <object>PyList_GET_ITEM(encs, i), value)
        p = _grow(out, &length, tail_n + exec_n)
        memcpy(p, PyBytes_AS_STRING(tail), tail_n)
        memcpy(p + tail_n, PyBytes_AS_STRING(execute), exec_n)
        if length - start - exec_n - 1 > 0x7FFFFFFF:
            raise OverflowError("Bind message too large")
        _put32(PyByteArray_AS_STRING(out) + start + 1, <uint32_t>(length - start - exec_n - 1))
    return PyBytes_FromStringAndSize(PyByteArray_AS_STRING(out), length)


# --- binary COPY ------------------------------------------------------------------------

def encode_copy_rows(encoders, records, bytearray out, Py_ssize_t limit):
    """Twin of :func:`pgwire.protocol.messages.encode_copy_rows`."""
    if type(encoders) is not list:
        encoders = list(encoders)
    cdef list encs = <list>encoders
    cdef Py_ssize_t ncols = PyList_GET_SIZE(encs)
    cdef bytes codes = _codes(encs)
    cdef const unsigned char* code_p = <const unsigned char*>PyBytes_AS_STRING(codes)
    cdef Py_ssize_t length = PyByteArray_GET_SIZE(out)
    cdef Py_ssize_t count = 0, start, i, n
    cdef char* p
    cdef object values
    cdef PyObject* next_record
    while True:
        next_record = PyIter_Next(records)
        if next_record == NULL:
            return True, count
        record = <object>next_record
        Py_DECREF(record)  # PyIter_Next returned a new reference; ``record`` holds its own
        if PyTuple_CheckExact(record):
            values = record
            n = PyTuple_GET_SIZE(record)
        elif PyList_CheckExact(record):
            values = record
            n = PyList_GET_SIZE(record)
        else:
            n = len(record)
            if n == ncols:
                values = tuple(record)
                n = PyTuple_GET_SIZE(values)
        if n != ncols:
            err = _row_encode_error()(count, -1, record)
            err.__cause__ = ValueError(f"expected {ncols} values, got {len(record)}")
            raise err
        start = length
        p = _grow(out, &length, 2)
        p[0] = <char>(ncols >> 8)
        p[1] = <char>ncols
        for i in range(ncols):
            value = _item(values, i)
            if value is None:
                _put32(_grow(out, &length, 4), 0xFFFFFFFF)
                continue
            try:
                _put_value(out, &length, code_p[i], <object>PyList_GET_ITEM(encs, i), value)
            except Exception as exc:
                del out[start:]
                raise _row_encode_error()(count, i, value) from exc
        count += 1
        if limit and length >= limit:
            return False, count


# --- DataRow runs -----------------------------------------------------------------------

cdef inline int32_t _i32(const unsigned char* p) noexcept nogil:
    return <int32_t>((<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16)
                     | (<uint32_t>p[2] << 8) | <uint32_t>p[3])


def consume_results(bytearray buf, Py_ssize_t pos, Py_ssize_t end, op):
    """Twin of :func:`pgwire.protocol.rows.consume_results`.

    While ``op`` keeps rows, has no error and decodes with the compiled
    ``decode_row``, rows are decoded from the buffer in place and appended
    to ``op.rows``; a row that fails to decode goes to ``op.on_data_row``,
    which records the error exactly as the pure path does.
    """
    if end > PyByteArray_GET_SIZE(buf):
        end = PyByteArray_GET_SIZE(buf)
    cdef const unsigned char* p
    cdef Py_ssize_t msg_end
    cdef int32_t length
    cdef bint fast = False
    cdef list decoders = None
    cdef list rows = None
    cdef RecordDescriptor desc = None
    cdef type cls = None
    keep = op.keep_rows
    if keep and op.error is None and op.decode_row is decode_row:
        d, r, ds, c = op.decoders, op.rows, op.desc, op.record_class
        if type(d) is list and type(r) is list and isinstance(ds, RecordDescriptor) and isinstance(c, type):
            decoders, rows, desc, cls = d, r, ds, c
            fast = True
    cdef unsigned char tag
    while True:
        p = <const unsigned char*>PyByteArray_AS_STRING(buf)
        if end - pos < 5:
            break
        tag = p[pos]
        if tag != 0x44 and tag != 0x32 and tag != 0x43:
            break
        length = _i32(p + pos + 1)
        if length < 4:
            break
        msg_end = pos + 1 + length
        if msg_end > end:
            break
        if tag == 0x44:
            if fast:
                try:
                    row = decode_row_at(p + pos + 5, length - 4, decoders, desc, cls)
                except Exception:
                    fast = False
                    op.on_data_row(PyBytes_FromStringAndSize(<const char*>(p + pos + 5), length - 4))
                else:
                    rows.append(row)
            elif keep:
                op.on_data_row(PyBytes_FromStringAndSize(<const char*>(p + pos + 5), length - 4))
        elif tag == 0x32:
            op.on_bind_complete()
        else:
            op.on_command_complete(
                PyUnicode_DecodeUTF8(<const char*>(p + pos + 5), length - 5 if length > 4 else 0, NULL))
        pos = msg_end
    return pos
