"""The ``postgresql+pgwire`` SQLAlchemy dialect: Core and ORM round trips, async engine."""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")
pytest.importorskip("greenlet")

from sqlalchemy import (  # noqa: E402
    Column,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import registry  # noqa: E402
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID  # noqa: E402
from sqlalchemy.exc import IntegrityError, ProgrammingError  # noqa: E402
from sqlalchemy.ext.asyncio import (  # noqa: E402
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (  # noqa: E402
    DeclarativeBase,
    Mapped,
    mapped_column,
    relationship,
    selectinload,
)


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


metadata = MetaData()

items = Table(
    "sa_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("doc", JSONB),
    Column("tags", ARRAY(String)),
    Column("key", UUID(as_uuid=True)),
    Column("mood", Enum(Mood, name="sa_mood")),
)


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "sa_authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list[Book]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "sa_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[int] = mapped_column(ForeignKey("sa_authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


def pgwire_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+pgwire://", 1)


@pytest.fixture(scope="module")
async def engine(dsn: str) -> AsyncIterator[AsyncEngine]:
    """The seed's engine arguments, only the URL scheme changed; tables created for the module."""
    eng = create_async_engine(pgwire_url(dsn), pool_size=20, max_overflow=0)
    async with eng.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield eng
    finally:
        async with eng.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(Base.metadata.drop_all)
        await eng.dispose()


@pytest.fixture(autouse=True)
async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE sa_items, sa_books, sa_authors RESTART IDENTITY"))


def test_the_dialect_is_registered_by_entry_point() -> None:
    cls = registry.load("postgresql.pgwire")
    assert cls.driver == "pgwire"


async def test_engine_uses_the_pgwire_driver(engine: AsyncEngine) -> None:
    import pgwire

    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, pgwire.Connection)
        assert engine.dialect.driver == "pgwire"


async def test_seed_pool_arguments_are_honoured(engine: AsyncEngine) -> None:
    assert engine.pool.size() == 20  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]


async def test_insert_returning_gives_the_new_primary_key(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(insert(items).returning(items.c.id), {"name": "a"})
        assert result.scalar_one() == 1


async def test_crud_round_trip(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(items), {"name": "a"})
        await conn.execute(update(items).where(items.c.name == "a").values(name="b"))
        assert (await conn.execute(select(items.c.name))).scalars().all() == ["b"]
        result = await conn.execute(delete(items).where(items.c.name == "b"))
        assert result.rowcount == 1
        assert (await conn.execute(select(func.count()).select_from(items))).scalar() == 0


async def test_jsonb_arrays_uuid_and_enums_round_trip(engine: AsyncEngine) -> None:
    key = uuid.uuid4()
    doc = {"nested": {"list": [1, 2.5, None, "x"]}, "flag": True}
    async with engine.begin() as conn:
        await conn.execute(
            insert(items),
            {"name": "a", "doc": doc, "tags": ["x", "y"], "key": key, "mood": Mood.sad},
        )
        row = (await conn.execute(select(items))).one()
    assert row.doc == doc
    assert row.tags == ["x", "y"]
    assert row.key == key
    assert row.mood is Mood.sad


async def test_jsonb_path_operators_work(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(items), {"name": "a", "doc": {"a": {"b": 7}}})
        value = await conn.scalar(select(items.c.doc["a"]["b"].as_integer()))
    assert value == 7


async def test_executemany_inserts_every_row(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(items), [{"name": f"n{i}"} for i in range(50)])
        assert await conn.scalar(select(func.count()).select_from(items)) == 50


async def test_insertmanyvalues_returns_every_key_in_order(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(
            insert(items).returning(items.c.name, sort_by_parameter_order=True),
            [{"name": f"n{i}"} for i in range(10)],
        )
        assert result.scalars().all() == [f"n{i}" for i in range(10)]


async def test_stream_reads_through_a_server_side_cursor(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(items), [{"name": f"n{i}"} for i in range(120)])
    async with engine.connect() as conn:
        result = await conn.stream(select(items.c.id).order_by(items.c.id))
        ids = [row.id async for row in result]
    assert ids == list(range(1, 121))


async def test_stream_partitions_fetch_in_batches(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(items), [{"name": f"n{i}"} for i in range(25)])
    async with engine.connect() as conn:
        result = await conn.stream(select(items.c.id).order_by(items.c.id))
        sizes = [len(part) async for part in result.partitions(10)]
    assert sizes == [10, 10, 5]


async def test_savepoint_rolls_back_only_its_own_work(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(items), {"name": "kept"})
        savepoint = await conn.begin_nested()
        await conn.execute(insert(items), {"name": "discarded"})
        await savepoint.rollback()
        names = (await conn.execute(select(items.c.name))).scalars().all()
    assert names == ["kept"]


async def test_integrity_error_is_translated_and_savepoint_recovers(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(items), {"name": "a"})
        with pytest.raises(IntegrityError) as info:
            async with conn.begin_nested():
                await conn.execute(insert(items), {"name": "a"})
        assert info.value.orig.sqlstate == "23505"  # type: ignore[union-attr]
        assert await conn.scalar(select(func.count()).select_from(items)) == 1


async def test_syntax_error_becomes_programming_error(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(ProgrammingError):
            await conn.execute(text("SELEC 1"))


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        ("READ COMMITTED", "read committed"),
        ("REPEATABLE READ", "repeatable read"),
        ("SERIALIZABLE", "serializable"),
    ],
)
async def test_isolation_level_reaches_the_server(
    engine: AsyncEngine, level: str, shown: str
) -> None:
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level=level)
        assert await conn.scalar(text("SHOW transaction_isolation")) == shown


async def test_autocommit_runs_statements_outside_a_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(insert(items), {"name": "a"})
        raw = await conn.get_raw_connection()
        assert not raw.driver_connection.is_in_transaction()
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(items)) == 1


async def test_statement_names_differ_between_connections_without_a_custom_function(
    engine: AsyncEngine,
) -> None:
    """Two sessions a transaction-mode PgBouncer could put on one server never share a name."""

    async def names_of(conn: Any) -> set[str]:
        driver = (await conn.get_raw_connection()).driver_connection
        rows = await driver.fetch("SELECT name FROM pg_prepared_statements")
        return {r["name"] for r in rows if not r["name"].startswith("__pgwire_stmt_")}

    query = select(items.c.id).where(items.c.name == "x")
    async with engine.connect() as first, engine.connect() as second:
        await first.execute(query)
        await second.execute(query)
        first_names, second_names = await names_of(first), await names_of(second)
    assert first_names and second_names
    assert not first_names & second_names


async def test_orm_session_round_trip_with_relationships(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        author = Author(name="Ursula", books=[Book(title="Earthsea"), Book(title="Lathe")])
        session.add(author)
    assert author.id == 1
    async with sessions() as session:
        loaded = await session.scalar(
            select(Author).options(selectinload(Author.books)).where(Author.id == author.id)
        )
        assert loaded is not None
        assert sorted(b.title for b in loaded.books) == ["Earthsea", "Lathe"]


async def test_orm_update_and_delete(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session, session.begin():
        session.add(Author(name="A"))
    async with AsyncSession(engine) as session, session.begin():
        author = (await session.execute(select(Author))).scalar_one()
        author.name = "B"
    async with AsyncSession(engine) as session, session.begin():
        author = (await session.execute(select(Author))).scalar_one()
        assert author.name == "B"
        await session.delete(author)
    async with AsyncSession(engine) as session:
        assert (await session.execute(select(Author))).first() is None


async def test_pool_serves_concurrent_sessions(engine: AsyncEngine) -> None:
    import asyncio

    async def one(i: int) -> int:
        async with engine.connect() as conn:
            return int(await conn.scalar(text(f"SELECT {i} FROM pg_sleep(0.05)")))

    assert await asyncio.gather(*(one(i) for i in range(20))) == list(range(20))
