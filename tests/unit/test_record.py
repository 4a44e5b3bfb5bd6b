"""Behaviour of ``Record``, the row type, as asyncpg users know it.

Every test runs against each implementation of the record module (the
pure-Python reference, and the compiled twin when it is built).  The parity
tests at the end build the same rows with asyncpg and compare.
"""

from __future__ import annotations

import copy
import importlib
import pickle
from types import ModuleType
from typing import Any

import pytest

IMPLEMENTATIONS = {"python": "pgwire.record", "compiled": "pgwire._speedups.record"}


@pytest.fixture(params=sorted(IMPLEMENTATIONS), scope="module")
def impl(request: pytest.FixtureRequest) -> ModuleType:
    name = IMPLEMENTATIONS[request.param]
    if request.param == "compiled":
        return pytest.importorskip(name)
    return importlib.import_module(name)


def make(impl: ModuleType, names: list[str], values: tuple[Any, ...], cls: Any = None) -> Any:
    desc = impl.RecordDescriptor(names)
    return impl.make_record(cls or impl.Record, desc, values)


@pytest.fixture
def row(impl: ModuleType) -> Any:
    return make(impl, ["a", "b"], (1, "x"))


# --- sequence access ---------------------------------------------------------


def test_integer_index_returns_the_column_value(row: Any) -> None:
    assert row[0] == 1
    assert row[1] == "x"


def test_negative_index_counts_from_the_end(row: Any) -> None:
    assert row[-1] == "x"
    assert row[-2] == 1


def test_index_out_of_range_raises_index_error(row: Any) -> None:
    with pytest.raises(IndexError, match="record index out of range"):
        row[2]
    with pytest.raises(IndexError):
        row[-3]


def test_slice_returns_a_tuple(row: Any) -> None:
    assert row[0:2] == (1, "x")
    assert type(row[0:2]) is tuple
    assert row[::-1] == ("x", 1)


def test_len_is_the_number_of_columns(row: Any) -> None:
    assert len(row) == 2


def test_iteration_yields_values(row: Any) -> None:
    assert list(row) == [1, "x"]


def test_tuple_of_record_is_the_values(row: Any) -> None:
    assert tuple(row) == (1, "x")


def test_reversed_yields_values_backwards(row: Any) -> None:
    assert list(reversed(row)) == ["x", 1]


# --- mapping access ----------------------------------------------------------


def test_name_index_returns_the_column_value(row: Any) -> None:
    assert row["a"] == 1
    assert row["b"] == "x"


def test_unknown_name_raises_key_error(row: Any) -> None:
    with pytest.raises(KeyError, match="'z'"):
        row["z"]


def test_non_integer_non_string_key_raises_key_error(row: Any) -> None:
    with pytest.raises(KeyError):
        row[1.5]
    with pytest.raises(KeyError):
        row[None]


def test_get_returns_the_value_or_the_default(row: Any) -> None:
    assert row.get("a") == 1
    assert row.get("z") is None
    assert row.get("z", 42) == 42


def test_get_looks_up_names_only(row: Any) -> None:
    assert row.get(0) is None


def test_in_tests_column_names_not_values(row: Any) -> None:
    assert "a" in row
    assert "z" not in row
    assert 1 not in row


def test_keys_values_items_are_iterators(row: Any) -> None:
    for view in (row.keys(), row.values(), row.items()):
        assert iter(view) is view
    assert list(row.keys()) == ["a", "b"]
    assert list(row.values()) == [1, "x"]
    assert list(row.items()) == [("a", 1), ("b", "x")]


def test_dict_of_record_maps_names_to_values(row: Any) -> None:
    assert dict(row) == {"a": 1, "b": "x"}


def test_duplicate_names_are_all_listed_and_lookup_returns_the_last(impl: ModuleType) -> None:
    record = make(impl, ["a", "a", "b"], (1, 2, 3))
    assert list(record.keys()) == ["a", "a", "b"]
    assert list(record.items()) == [("a", 1), ("a", 2), ("b", 3)]
    assert record["a"] == 2
    assert record.get("a") == 2
    assert dict(record) == {"a": 2, "b": 3}


# --- comparison and hashing --------------------------------------------------


def test_record_equals_the_tuple_of_its_values(row: Any) -> None:
    assert row == (1, "x")
    assert (1, "x") == row
    assert row != (1, "y")


def test_record_does_not_equal_a_list(row: Any) -> None:
    assert row != [1, "x"]
    assert not row == [1, "x"]


def test_records_compare_by_values_ignoring_names(impl: ModuleType) -> None:
    assert make(impl, ["a", "b"], (1, 2)) == make(impl, ["c", "d"], (1, 2))
    assert make(impl, ["a", "b"], (1, 2)) != make(impl, ["a", "b"], (1, 3))


def test_records_order_like_tuples(impl: ModuleType) -> None:
    low, high = make(impl, ["a", "b"], (1, 2)), make(impl, ["a", "b"], (1, 3))
    assert low < high
    assert low <= high
    assert high > low
    assert high >= low
    assert low < (1, 3)
    assert sorted([high, low]) == [low, high]


def test_ordering_against_a_non_tuple_raises_type_error(row: Any) -> None:
    with pytest.raises(TypeError):
        row < [1, "x"]  # noqa: B015
    with pytest.raises(TypeError):
        row < 5  # noqa: B015


def test_hash_is_the_hash_of_the_values(row: Any) -> None:
    assert hash(row) == hash((1, "x"))
    assert {row: "found"}[(1, "x")] == "found"


def test_record_with_unhashable_value_is_unhashable(impl: ModuleType) -> None:
    with pytest.raises(TypeError):
        hash(make(impl, ["a"], ([1],)))


# --- immutability, construction, pickling ------------------------------------


def test_item_assignment_raises_type_error(row: Any) -> None:
    with pytest.raises(TypeError):
        row[0] = 2
    with pytest.raises(TypeError):
        row["a"] = 2


def test_item_deletion_raises_type_error(row: Any) -> None:
    with pytest.raises(TypeError):
        del row[0]


def test_attribute_assignment_raises_attribute_error(row: Any) -> None:
    with pytest.raises(AttributeError):
        row.a = 2


def test_columns_are_not_attributes(row: Any) -> None:
    with pytest.raises(AttributeError):
        row.a  # noqa: B018


def test_record_cannot_be_instantiated_directly(impl: ModuleType) -> None:
    with pytest.raises(TypeError, match="cannot create .*Record' instances"):
        impl.Record()
    with pytest.raises(TypeError, match="cannot create"):
        impl.Record((1, 2))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_record_pickles_to_an_equal_record_of_the_active_implementation(
    impl: ModuleType, protocol: int
) -> None:
    # A plain Record loads as the Record of whichever implementation runs, so a
    # pickle moves between processes running different implementations.
    import pgwire._impl

    row = make(impl, ["a", "b", "a"], (1, "x", [2]))
    restored = pickle.loads(pickle.dumps(row, protocol))
    assert type(restored) is pgwire._impl.Record
    assert tuple(restored) == tuple(row)
    assert list(restored.items()) == [("a", 1), ("b", "x"), ("a", [2])]
    assert restored["a"] == [2]


def test_record_subclass_pickles_to_the_subclass(impl: ModuleType) -> None:
    cls = type("PickledSub", (impl.Record,), {})
    cls.__module__ = __name__
    globals()["PickledSub"] = cls
    try:
        restored = pickle.loads(pickle.dumps(make(impl, ["a"], (1,), cls=cls)))
    finally:
        del globals()["PickledSub"]
    assert type(restored) is cls
    assert restored["a"] == 1


def test_record_copy_is_the_record_itself(row: Any) -> None:
    assert copy.copy(row) is row


def test_record_deepcopy_copies_the_values(impl: ModuleType) -> None:
    row = make(impl, ["a", "b"], ([1], "x"))
    clone = copy.deepcopy(row)
    assert type(clone) is type(row)
    assert clone == row and list(clone.keys()) == ["a", "b"]
    assert clone["a"] is not row["a"]


def test_record_is_not_a_tuple(row: Any) -> None:
    assert not isinstance(row, tuple)


# --- repr and truth ----------------------------------------------------------


def test_repr_lists_name_value_pairs(impl: ModuleType) -> None:
    record = make(impl, ["a", "b", "n"], (1, "it's", None))
    assert repr(record) == '<Record a=1 b="it\'s" n=None>'
    assert str(record) == repr(record)


def test_repr_of_empty_record(impl: ModuleType) -> None:
    assert repr(make(impl, [], ())) == "<Record>"


def test_empty_record_is_false_and_non_empty_is_true(impl: ModuleType, row: Any) -> None:
    assert not make(impl, [], ())
    assert row


# --- subclasses (record_class=) ---------------------------------------------


def test_subclass_instances_are_built_by_make_record(impl: ModuleType) -> None:
    class Row(impl.Record):  # type: ignore[name-defined,misc]
        def total(self) -> int:
            return sum(self.values())

    record = make(impl, ["a", "b"], (1, 2), cls=Row)
    assert type(record) is Row
    assert record.total() == 3
    assert record["b"] == 2
    assert record == (1, 2)


def test_subclass_repr_uses_the_subclass_name(impl: ModuleType) -> None:
    class Row(impl.Record):  # type: ignore[name-defined,misc]
        pass

    assert repr(make(impl, ["a"], (1,), cls=Row)) == "<Row a=1>"


def test_subclass_cannot_be_instantiated_directly(impl: ModuleType) -> None:
    class Row(impl.Record):  # type: ignore[name-defined,misc]
        pass

    with pytest.raises(TypeError, match="cannot create"):
        Row()


# --- descriptor --------------------------------------------------------------


def test_descriptor_holds_names_and_last_wins_index(impl: ModuleType) -> None:
    desc = impl.RecordDescriptor(["a", "b", "a"])
    assert desc.names == ("a", "b", "a")
    assert desc.index == {"a": 2, "b": 1}


def test_records_share_their_descriptor(impl: ModuleType) -> None:
    desc = impl.RecordDescriptor(["a"])
    first = impl.make_record(impl.Record, desc, (1,))
    second = impl.make_record(impl.Record, desc, (2,))
    assert (first["a"], second["a"]) == (1, 2)


# --- parity with asyncpg -----------------------------------------------------

SAMPLES: list[tuple[list[str], tuple[Any, ...]]] = [
    ([], ()),
    (["a"], (None,)),
    (["a", "b"], (1, "x")),
    (["id", "tags", "n"], (7, ("p", "q"), 1.5)),
]


@pytest.fixture(scope="module")
def asyncpg_record() -> Any:
    pytest.importorskip("asyncpg")
    protocol = pytest.importorskip("asyncpg.protocol.protocol")

    def build(names: list[str], values: tuple[Any, ...]) -> Any:
        return protocol._create_record({n: i for i, n in enumerate(names)} or None, values)

    return build


@pytest.mark.parametrize(("names", "values"), SAMPLES)
def test_parity_with_asyncpg(
    impl: ModuleType, asyncpg_record: Any, names: list[str], values: tuple[Any, ...]
) -> None:
    ours, theirs = make(impl, names, values), asyncpg_record(names, values)
    assert repr(ours) == repr(theirs)
    assert bool(ours) == bool(theirs)
    assert len(ours) == len(theirs)
    assert list(ours) == list(theirs)
    assert list(ours.keys()) == list(theirs.keys())
    assert list(ours.items()) == list(theirs.items())
    assert dict(ours) == dict(theirs)
    assert tuple(ours) == tuple(theirs)
    assert hash(ours) == hash(theirs)
    assert (ours == values) == (theirs == values)
    assert (ours == list(values)) == (theirs == list(values))
    assert ours[:] == theirs[:]
    for name in names:
        assert ours[name] == theirs[name]
        assert ours.get(name) == theirs.get(name)
        assert (name in ours) == (name in theirs)
    assert ours.get("missing", 0) == theirs.get("missing", 0)


def test_contains_called_unbound_on_a_non_record_is_a_type_error(impl: ModuleType) -> None:
    with pytest.raises(TypeError):
        impl.Record.__contains__(None, "a")


def test_a_record_pickled_under_one_implementation_loads_under_the_other() -> None:
    import os
    import subprocess
    import sys

    dump = (
        "import pickle, sys; from pgwire import _impl; "
        "r = _impl.make_record(_impl.Record, _impl.RecordDescriptor(('a',)), (1,)); "
        "sys.stdout.buffer.write(pickle.dumps(r))"
    )
    load = (
        "import pickle, sys, pgwire; r = pickle.loads(sys.stdin.buffer.read()); "
        "assert isinstance(r, pgwire.Record) and r['a'] == 1"
    )
    for writer, reader in (("python", "auto"), ("auto", "python")):
        data = subprocess.run(
            [sys.executable, "-c", dump],
            env={**os.environ, "PGWIRE_IMPL": writer},
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(
            [sys.executable, "-c", load],
            env={**os.environ, "PGWIRE_IMPL": reader},
            input=data,
            check=True,
        )
