cdef class ArrayDecoder:
    cdef object element_decode
    cdef object pure_decode
    cdef int code


cdef int code_of(object decoder) except -1
cdef object decode_value(int code, const unsigned char* p, Py_ssize_t n, object decoder)
