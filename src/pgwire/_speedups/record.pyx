"""Compiled twin of :mod:`pgwire.record`: the same ``Record`` behaviour as a C type.

See :mod:`pgwire.record` for the contract; this module must stay
indistinguishable from it (``tests/unit/test_record.py`` runs against both).
"""

import copy

cimport cython
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_SIZE

cdef extern from "Python.h":
    int Py_ReprEnter(object) except -1
    void Py_ReprLeave(object)
    int PyObject_GC_IsTracked(object)
    void PyObject_GC_UnTrack(void*)


@cython.final
@cython.auto_pickle(False)
cdef class RecordDescriptor:
    """Column layout shared by all records of one result (``names``, last-wins ``index``)."""

    def __init__(self, names):
        self.names = tuple(names)
        self.index = {name: position for position, name in enumerate(self.names)}

    def __repr__(self):
        return f"RecordDescriptor({self.names!r})"


@cython.auto_pickle(False)
cdef class Record:
    """A result row: a sequence of values that can also be indexed by column name."""

    def __init__(self, *args, **kwargs):
        cls = type(self)
        raise TypeError(f"cannot create '{cls.__module__}.{cls.__qualname__}' instances")

    def __getitem__(self, key):
        if type(key) is str:
            return self._values[self._desc.index[key]]
        try:
            return self._values[key]
        except IndexError:
            raise IndexError("record index out of range") from None
        except TypeError:
            pass
        return self._values[self._desc.index[key]]

    def get(self, key, default=None):
        """Return the value of column ``key``, or ``default`` when there is no such column."""
        position = self._desc.index.get(key)
        if position is None:
            return default
        return self._values[position]

    def keys(self):
        """Iterate over column names, in result order (duplicates included)."""
        return iter(self._desc.names)

    def values(self):
        """Iterate over column values, in result order."""
        return iter(self._values)

    def items(self):
        """Iterate over ``(name, value)`` pairs, in result order (duplicates included)."""
        return zip(self._desc.names, self._values)

    def __len__(self):
        return PyTuple_GET_SIZE(self._values)

    def __iter__(self):
        return iter(self._values)

    def __contains__(self, key):
        return key in self._desc.index

    def __eq__(self, other):
        if isinstance(other, Record):
            return self._values == (<Record>other)._values
        if isinstance(other, tuple):
            return self._values == other
        return NotImplemented

    def __ne__(self, other):
        if isinstance(other, Record):
            return self._values != (<Record>other)._values
        if isinstance(other, tuple):
            return self._values != other
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Record):
            return self._values < (<Record>other)._values
        if isinstance(other, tuple):
            return self._values < other
        return NotImplemented

    def __le__(self, other):
        if isinstance(other, Record):
            return self._values <= (<Record>other)._values
        if isinstance(other, tuple):
            return self._values <= other
        return NotImplemented

    def __gt__(self, other):
        if isinstance(other, Record):
            return self._values > (<Record>other)._values
        if isinstance(other, tuple):
            return self._values > other
        return NotImplemented

    def __ge__(self, other):
        if isinstance(other, Record):
            return self._values >= (<Record>other)._values
        if isinstance(other, tuple):
            return self._values >= other
        return NotImplemented

    def __hash__(self):
        return hash(self._values)

    def __repr__(self):
        name = type(self).__name__
        if not self._values:
            return f"<{name}>"
        if Py_ReprEnter(self):
            return "..."
        try:
            fields = " ".join(
                [f"{k}={v!r}" for k, v in zip(self._desc.names, self._values)]
            )
        finally:
            Py_ReprLeave(self)
        return f"<{name} {fields}>"

    def __reduce__(self):
        # The pure module's reconstructor: a pickle loads under either implementation
        # (None stands for the plain Record of whichever implementation runs).
        from pgwire.record import _restore_record as restore
        cls = None if type(self) is Record else type(self)
        return (restore, (cls, self._desc.names, self._values))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return new_record(type(self), self._desc, copy.deepcopy(self._values, memo))


cdef Record new_record(type cls, RecordDescriptor desc, tuple values):
    if cls is not Record and not issubclass(cls, Record):
        raise TypeError(f"{cls!r} is not a subclass of {Record!r}")
    cdef Record record = <Record>Record.__new__(cls)
    record._desc = desc
    record._values = values
    if cls is Record and not PyObject_GC_IsTracked(values):
        # Nothing it refers to can lead back to it: keep it out of the cycle
        # collector's scans (one less object per row for every collection).
        PyObject_GC_UnTrack(<void*>record)
    return record


def make_record(type cls, RecordDescriptor desc, tuple values):
    """Build a ``cls`` instance (``Record`` or a subclass) over ``desc`` and ``values``."""
    return new_record(cls, desc, values)


def _restore_record(cls, names, values):
    """Unpickle a record: ``cls`` over a descriptor rebuilt from ``names``."""
    if not (isinstance(cls, type) and issubclass(cls, Record)):
        raise TypeError(f"{cls!r} is not a subclass of {Record!r}")
    if len(names) != len(values):
        raise ValueError(f"a record of {len(names)} columns cannot hold {len(values)} values")
    return new_record(cls, RecordDescriptor(names), tuple(values))
