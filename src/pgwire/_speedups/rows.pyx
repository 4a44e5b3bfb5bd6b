"""Compiled twin of :mod:`pgwire.protocol.rows`: the DataRow -> Record loop in one C pass.

Each decoder is mapped once to an integer code (``codecs.code_of``); builtin
types are then decoded inline from the payload, without slicing it and
without a Python call. The mapping is cached for the last decoder list seen
(one statement's rows arrive together) and re-checked by identity per row.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF

cdef extern from "Python.h":
    int PyObject_IS_GC(object)
    int PyObject_GC_IsTracked(object)
    void PyObject_GC_UnTrack(void*)
    bint PyTuple_CheckExact(object)
from libc.stdint cimport int16_t, int32_t, uint32_t

import struct as _struct

from .codecs cimport code_of, decode_value
from .record cimport Record, RecordDescriptor, new_record

cdef object _StructError = _struct.error

cdef list _cached_decoders = []
cdef bytearray _cached_codes = bytearray()


cdef inline int32_t _i32(const unsigned char* p) noexcept nogil:
    return <int32_t>((<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16)
                     | (<uint32_t>p[2] << 8) | <uint32_t>p[3])


cdef const unsigned char* _codes_for(list decoders, Py_ssize_t count) except NULL:
    global _cached_decoders, _cached_codes
    cdef Py_ssize_t i
    cdef bint same = PyList_GET_SIZE(_cached_decoders) == count
    if same:
        for i in range(count):
            if <object>PyList_GET_ITEM(decoders, i) is not <object>PyList_GET_ITEM(_cached_decoders, i):
                same = False
                break
    if not same:
        codes = bytearray(count if count else 1)
        for i in range(count):
            codes[i] = code_of(decoders[i])
        _cached_codes = codes
        _cached_decoders = list(decoders)
    return <const unsigned char*>(<char*>_cached_codes)


def decode_row(data, decoders, RecordDescriptor desc, type record_class):
    """Decode one DataRow body with one decoder per column into a ``record_class``.

    Same contract as :func:`pgwire.protocol.rows.decode_row`.
    """
    if type(data) is not bytes:
        data = bytes(data)
    if type(decoders) is not list:
        decoders = list(decoders)
    cdef bytes payload = <bytes>data
    return decode_row_at(<const unsigned char*>(<char*>payload), len(payload),
                         <list>decoders, desc, record_class)


cdef object decode_row_at(const unsigned char* p, Py_ssize_t n, list decoders,
                          RecordDescriptor desc, type record_class):
    """:func:`decode_row` over the ``n`` payload bytes at ``p`` (no copy of the payload)."""
    if n < 2:
        raise _StructError("unpack_from requires a buffer of at least 2 bytes")
    cdef Py_ssize_t count = <int16_t>((<uint32_t>p[0] << 8) | p[1])
    cdef Py_ssize_t ncols = PyList_GET_SIZE(decoders)
    if count != ncols:
        raise ValueError(f"DataRow has {count} columns, expected {ncols}")
    cdef const unsigned char* codes = _codes_for(decoders, count)
    cdef tuple values = PyTuple_New(count)
    cdef Py_ssize_t pos = 2
    cdef Py_ssize_t i
    cdef int32_t size
    cdef bint atomic = True
    for i in range(count):
        if pos + 4 > n:
            raise _StructError("DataRow is truncated")
        size = _i32(p + pos)
        pos += 4
        if size < 0:
            value = None
        else:
            if pos + size > n:
                raise _StructError("DataRow is truncated")
            value = decode_value(codes[i], p + pos, size, <object>PyList_GET_ITEM(decoders, i))
            pos += size
            # CPython's own rule: only non-GC objects and untracked tuples can never
            # join a cycle (an untracked dict or list is tracked once it holds one).
            if atomic and PyObject_IS_GC(value) and not (
                PyTuple_CheckExact(value) and not PyObject_GC_IsTracked(value)
            ):
                atomic = False
        Py_INCREF(value)
        PyTuple_SET_ITEM(values, i, value)
    if atomic:
        # What the collector would find on its first pass (a tuple of untracked
        # values cannot be part of a cycle), without the pass.
        PyObject_GC_UnTrack(<void*>values)
    return new_record(record_class, desc, values)
