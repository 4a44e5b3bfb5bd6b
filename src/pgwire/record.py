"""Result rows: the ``Record`` type (pure-Python reference implementation).

A ``Record`` behaves like :class:`asyncpg.Record`:

* it is a read-only sequence of column values: ``r[0]``, ``r[-1]``, ``r[1:3]``
  (a ``tuple``), ``len(r)``, ``iter(r)`` yields values;
* it is also a read-only mapping keyed by column name: ``r['name']``
  (``KeyError`` when absent), ``r.get(name, default=None)``, ``name in r``,
  ``r.keys()`` / ``r.values()`` / ``r.items()`` (iterators), so ``dict(r)``
  works.  Duplicate column names are allowed: ``keys()`` and ``items()`` list
  every column, while lookup by name returns the *last* column of that name;
* equality, ordering and hashing are those of the tuple of values (column
  names are ignored): ``r == (1, 2)`` holds, ``r == [1, 2]`` does not;
* it is immutable, not picklable (nor copyable), and cannot be instantiated
  from Python code: rows are built by the driver through :func:`make_record`.

Design: a slotted object holding a shared :class:`RecordDescriptor` (built
once per statement) and the tuple of values, rather than a ``tuple``
subclass.  A tuple subclass would make creation slightly cheaper and give
``==``/``hash`` for free, but it cannot carry the descriptor without a
per-instance ``__dict__`` (tuple subclasses cannot have non-empty
``__slots__``), and ``isinstance(r, tuple)`` would become true, which changes
how third-party code treats rows (``json.dumps`` and FastAPI's
``jsonable_encoder`` would turn a row into a list of values instead of going
through ``dict(r)``).  Creating a record costs one ``object.__new__`` and two
slot stores; no per-record dict is allocated.

User subclasses (``record_class=``) work unchanged as long as they do not
override ``__new__`` or ``__init__``: :func:`make_record` builds instances of
any subclass the same way.
"""

from __future__ import annotations

import copy
import reprlib
from collections.abc import Iterator, Sequence
from typing import Any, overload

__all__ = ("Record", "RecordDescriptor", "make_record")


class RecordDescriptor:
    """Column layout shared by all records of one result.

    ``names`` is the tuple of column names in result order (duplicates kept);
    ``index`` maps each name to its column position; for a duplicated name the
    last position wins.
    """

    __slots__ = ("names", "index")

    names: tuple[str, ...]
    index: dict[str, int]

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.index = {name: position for position, name in enumerate(self.names)}

    def __repr__(self) -> str:
        return f"RecordDescriptor({self.names!r})"


class Record:
    """A result row: a sequence of values that can also be indexed by column name."""

    __slots__ = ("_desc", "_values")

    _desc: RecordDescriptor
    _values: tuple[Any, ...]

    def __new__(cls, *args: object, **kwargs: object) -> Record:
        raise TypeError(f"cannot create '{cls.__module__}.{cls.__qualname__}' instances")

    @overload
    def __getitem__(self, key: str) -> Any: ...
    @overload
    def __getitem__(self, key: int) -> Any: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[Any, ...]: ...

    def __getitem__(self, key: object) -> Any:
        # Column names are the common case: test for them first and cheaply.
        if type(key) is str:
            return self._values[self._desc.index[key]]
        try:
            return self._values[key]  # type: ignore[call-overload]
        except IndexError:
            raise IndexError("record index out of range") from None
        except TypeError:
            pass
        return self._values[self._desc.index[key]]  # type: ignore[index]

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value of column ``key``, or ``default`` when there is no such column."""
        position = self._desc.index.get(key)
        if position is None:
            return default
        return self._values[position]

    def keys(self) -> Iterator[str]:
        """Iterate over column names, in result order (duplicates included)."""
        return iter(self._desc.names)

    def values(self) -> Iterator[Any]:
        """Iterate over column values, in result order."""
        return iter(self._values)

    def items(self) -> Iterator[tuple[str, Any]]:
        """Iterate over ``(name, value)`` pairs, in result order (duplicates included)."""
        return zip(self._desc.names, self._values, strict=False)

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._desc.index
        except AttributeError:
            # Called unbound on a non-record: TypeError, as the compiled twin raises.
            if not isinstance(self, Record):
                raise TypeError(
                    f"descriptor '__contains__' requires a 'Record' object, "
                    f"got {type(self).__name__!r}"
                ) from None
            raise

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._values == other._values
        if isinstance(other, tuple):
            return self._values == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._values != other._values
        if isinstance(other, tuple):
            return self._values != other
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._values < other._values
        if isinstance(other, tuple):
            return self._values < other
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._values <= other._values
        if isinstance(other, tuple):
            return self._values <= other
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._values > other._values
        if isinstance(other, tuple):
            return self._values > other
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._values >= other._values
        if isinstance(other, tuple):
            return self._values >= other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    @reprlib.recursive_repr("...")
    def __repr__(self) -> str:
        name = type(self).__name__
        if not self._values:
            return f"<{name}>"
        pairs = zip(self._desc.names, self._values, strict=False)
        fields = " ".join(f"{k}={v!r}" for k, v in pairs)
        return f"<{name} {fields}>"

    # Records pickle and copy (asyncpg refuses both): a pickle holds the class (None
    # for the plain Record, so that it loads as the Record of whichever implementation
    # runs), the column names and the values, and unpickles through this module's
    # _restore_record.
    def __reduce__(self) -> Any:
        cls = None if type(self) is Record else type(self)
        return (_restore_record, (cls, self._desc.names, self._values))

    def __copy__(self) -> Record:
        return self  # immutable: a copy may share everything

    def __deepcopy__(self, memo: dict[int, Any]) -> Record:
        values = copy.deepcopy(self._values, memo)
        return make_record(type(self), self._desc, values)


_new_object = object.__new__


def make_record(cls: type[Record], desc: RecordDescriptor, values: tuple[Any, ...]) -> Record:
    """Build a ``cls`` instance (``Record`` or a subclass) over ``desc`` and ``values``.

    The driver's constructor: O(1), no copy, no validation.  ``values`` must be
    a tuple with one value per name of ``desc``.
    """
    record = _new_object(cls)
    record._desc = desc
    record._values = values
    return record


#: The record type of the implementation in use, as ``(Record, RecordDescriptor,
#: make_record)``: set by :mod:`pgwire._impl` (this module cannot import it), used to
#: unpickle.
active_implementation: tuple[Any, Any, Any] | None = None


def _restore_record(cls: Any, names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """Unpickle a record: ``cls`` (``None``: the active implementation's ``Record``) over a
    descriptor rebuilt from ``names``; records pickled by either implementation load."""
    record, descriptor, make = active_implementation or (Record, RecordDescriptor, make_record)
    if cls is None:
        cls = record
    if len(names) != len(values):
        raise ValueError(f"a record of {len(names)} columns cannot hold {len(values)} values")
    if isinstance(cls, type) and issubclass(cls, Record):
        return make_record(cls, RecordDescriptor(names), tuple(values))
    if isinstance(cls, type) and issubclass(cls, record):
        return make(cls, descriptor(names), tuple(values))
    raise TypeError(f"{cls!r} is not a subclass of {Record!r}")
