cdef class RecordDescriptor:
    cdef readonly tuple names
    cdef readonly dict index


cdef class Record:
    cdef RecordDescriptor _desc
    cdef tuple _values


cdef Record new_record(type cls, RecordDescriptor desc, tuple values)
