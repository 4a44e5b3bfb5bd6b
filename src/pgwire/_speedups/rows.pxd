from .record cimport RecordDescriptor

cdef object decode_row_at(const unsigned char* p, Py_ssize_t n, list decoders,
                          RecordDescriptor desc, type record_class)
