"""Hot-path statements: compiled once by SQLAlchemy, run straight on the DBAPI cursor.

SQLAlchemy's execution layer costs about 45 µs per statement on the development machine,
several times what SQLite takes for a keyed UPDATE, and a QBWC round trip runs about ten
statements. The statements of the round trip therefore skip it:

- each is still a Core construct, compiled by SQLAlchemy for the connection's dialect;
- parameters and result columns go through the same type processors SQLAlchemy would
  apply (JSON, enums, UTC timestamps), looked up once through the public type API;
- they run on the caller's connection, inside the caller's transaction, and driver
  errors are raised as SQLAlchemy's ``DBAPIError`` subclasses, as ``Connection.execute``
  raises them.

What is skipped is SQLAlchemy's per-call bookkeeping: the statement cache lookup,
execution events, and building ``Result`` objects.

A statement run for every job of a message is a :class:`PerRow`: on PostgreSQL its
per-row values go as arrays, and it runs once, over ``unnest`` of them, for all the rows
(one plan and one executor run, where ``executemany`` made one per row); elsewhere it runs
once per row.

:class:`Transactions` makes the matching lean transactions: a DBAPI connection from the
pool, ``BEGIN IMMEDIATE`` on SQLite, commit or rollback. The functions here take those or
an ordinary SQLAlchemy ``Connection`` alike (:data:`Executor`), so the CLI, the API and the
admin pages call the same queue functions inside their own transactions.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeAlias, cast

from sqlalchemy import Connection, Engine, bindparam, column, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from qbwc_service.errors import QbwcError


class PreparedStatementError(QbwcError):
    """A statement that cannot be run as a prepared statement (a programming error)."""


class Prepared:
    """One Core statement compiled for one dialect, with its parameter and row handling."""

    __slots__ = ("_positional", "_result_processors", "_row", "_slots", "sql")

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
        self.sql = compiled.string
        if "POSTCOMPILE" in self.sql:
            raise PreparedStatementError("statements with expanding or literal-execute parameters are not supported")
        self._positional = bool(compiled.positional)
        names = compiled.positiontup if self._positional else list(compiled.binds)
        # One slot per placeholder: (name, key looked up in the caller's params or None, fixed value, processor).
        slots: list[tuple[str, str | None, Any, Callable[[Any], Any] | None]] = []
        for name in names or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                slots.append((name, bind.key, None, process))
            else:
                value = bind.effective_value
                slots.append((name, None, process(value) if process else value, None))
        self._slots = tuple(slots)
        if dialect.driver == "psycopg" and not self._positional:
            self.sql = _binary_arrays(self.sql, compiled)
        columns = list(getattr(stmt, "exported_columns", ()))
        keys = [c.key for c in columns if c.key]
        if len(set(keys)) != len(keys):
            raise PreparedStatementError(f"result columns must have distinct names: {keys}")
        # Unnamed columns (an aggregate, an EXISTS) are reached by position.
        names = [c.key or f"_{i}" for i, c in enumerate(columns)]
        self._row: Any = namedtuple("Row", names, rename=True) if columns else None
        self._result_processors = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for ``params``, processed by their column types."""
        values = []
        for _name, key, fixed, process in self._slots:
            if key is None:
                values.append(fixed)
                continue
            try:
                value = params[key]
            except KeyError:
                raise PreparedStatementError(f"a value is required for parameter {key!r}") from None
            values.append(process(value) if process else value)
        if self._positional:
            return values
        return {slot[0]: value for slot, value in zip(self._slots, values, strict=True)}

    def rows(self, raw: Iterable[Sequence[Any]]) -> list[Any]:
        """Driver rows as named tuples, processed by their column types."""
        if self._row is None:
            raise PreparedStatementError("the statement returns no rows")
        make, processors = self._row._make, self._result_processors
        return [make(p(v) if p else v for p, v in zip(processors, r, strict=True)) for r in raw]


def _binary_arrays(sql: str, compiled: SQLCompiler) -> str:
    """``sql`` with psycopg's binary placeholder (``%(name)b``) for every array parameter.

    In the text format psycopg escapes each element with a regular expression, quote by
    quote: the arrays of a message's XML took about 8 ms a statement, and 0.5 ms in binary.
    """
    for name, bind in compiled.binds.items():
        if isinstance(bind.type, ARRAY):
            sql = sql.replace(f"%({name})s", f"%({name})b")
    return sql


class Tx:
    """An open transaction on a pooled DBAPI connection (see :class:`Transactions`)."""

    __slots__ = ("dialect", "driver", "echo")

    def __init__(self, dialect: Dialect, driver: Any, echo: bool) -> None:
        self.dialect = dialect
        self.driver = driver
        self.echo = echo


#: What the functions of this module run statements on.
Executor: TypeAlias = Connection | Tx


class Transactions:
    """Lean transactions on ``engine``: committed when the block ends, rolled back when it raises.

    SQLite takes the write lock up front (``BEGIN IMMEDIATE``, as :mod:`.db` does for
    SQLAlchemy's transactions), so two workers never deadlock upgrading a read lock.

    On SQLite each thread keeps its pooled connection checked out between transactions:
    a file handle has nothing to reconnect, and the pool's checkout and return cost more
    than a whole transaction. It goes back to the pool when the thread ends or when a
    transaction fails. PostgreSQL connections go back to the pool, and its pre-ping,
    after every transaction. A connection the driver reports as lost is dropped.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._hold = engine.dialect.name == "sqlite"
        self._local = threading.local()

    @contextmanager
    def begin(self) -> Iterator[Tx]:
        """One transaction (see the class)."""
        dialect = self.engine.dialect
        held: _Held | None = getattr(self._local, "held", None) if self._hold else None
        pooled = held.pooled if held is not None else self.engine.raw_connection()
        driver: Any = pooled.driver_connection
        try:
            if self._hold:
                driver.execute("BEGIN IMMEDIATE")
            yield Tx(dialect, driver, bool(self.engine.echo))
            driver.commit()
        except BaseException as exc:
            if held is not None:
                held.pooled = None
                self._local.held = None
            _abandon(pooled, driver, dialect, exc)
            pooled.close()
            raise
        if not self._hold:
            pooled.close()
        elif held is None:
            self._local.held = _Held(pooled)


class _Held:
    """A thread's checked-out connection; returned to the pool when the thread's locals go."""

    __slots__ = ("pooled",)

    def __init__(self, pooled: Any) -> None:
        self.pooled = pooled

    def __del__(self) -> None:
        if self.pooled is not None:
            with contextlib.suppress(Exception):  # the pool may be gone already at exit
                self.pooled.close()


def _abandon(pooled: Any, driver: Any, dialect: Dialect, exc: BaseException) -> None:
    """Roll back after ``exc``; invalidate the connection when the driver says it is gone."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    dbapi_error = dialect.loaded_dbapi.Error
    if isinstance(orig, dbapi_error) and dialect.is_disconnect(orig, driver, None):
        pooled.invalidate(orig)
        return
    try:
        driver.rollback()
    except dbapi_error as failed:
        pooled.invalidate(failed)


@functools.cache
def prepare(stmt: ClauseElement, dialect: Dialect) -> Prepared:
    """The statement compiled for ``dialect`` (cached: pass statements built once)."""
    return Prepared(stmt, dialect)


def _run(conn: Executor, stmt: ClauseElement, params: Any, many: bool) -> tuple[Prepared, Any]:
    if isinstance(conn, Tx):
        driver, echo = conn.driver, conn.echo
    else:
        driver, echo = conn.connection.driver_connection, bool(conn.engine.echo)
    prepared = prepare(stmt, conn.dialect)
    cursor = driver.cursor()
    args: Any = [prepared.parameters(p) for p in params] if many else prepared.parameters(params)
    if echo:  # QBWC_SQL_ECHO: the statement, as SQLAlchemy logs its own (not the values: tickets are secrets)
        logging.getLogger("sqlalchemy.engine.Engine").info("%s [prepared]", prepared.sql)
    try:
        if many:
            cursor.executemany(prepared.sql, args)
        else:
            cursor.execute(prepared.sql, args)
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise DBAPIError.instance(prepared.sql, args, exc, conn.dialect.loaded_dbapi.Error) from exc
    return prepared, cursor


def execute(conn: Executor, stmt: ClauseElement, params: Mapping[str, Any]) -> int:
    """Run a statement that returns no rows; the number of rows it changed."""
    _, cursor = _run(conn, stmt, params, many=False)
    count: int = cursor.rowcount
    cursor.close()
    return count


def execute_many(conn: Executor, stmt: ClauseElement, params: Sequence[Mapping[str, Any]]) -> int:
    """Run a statement once per parameter set; the number of rows changed in all."""
    if not params:
        return 0
    _, cursor = _run(conn, stmt, params, many=True)
    count: int = cursor.rowcount
    cursor.close()
    return count


def fetch(conn: Executor, stmt: ClauseElement, params: Mapping[str, Any]) -> list[Any]:
    """Run a SELECT (or a statement with RETURNING); every row, as named tuples."""
    prepared, cursor = _run(conn, stmt, params, many=False)
    try:
        return prepared.rows(cursor.fetchall())
    finally:
        cursor.close()


#: Gives a :class:`PerRow` statement's value of the current row by its name.
RowValue: TypeAlias = Callable[[str], ColumnElement[Any]]


class PerRow:
    """A statement run for many rows at once, built from the values that change from row to row.

    ``build(value)`` makes the statement, ``value(name)`` standing for the row's value of
    each name in ``types`` (name: column type). It is built twice: with bind parameters,
    run once per row (:attr:`single`), and over ``unnest`` of one array per name
    (:attr:`arrays`, PostgreSQL), run once for all rows. The statement's other bind
    parameters have one value for every row. An INSERT is written as ``from_select``, so
    that both shapes hold it.
    """

    def __init__(self, build: Callable[[RowValue], ClauseElement], **types: TypeEngine[Any]) -> None:
        self._build = build
        self.types = types

    @functools.cached_property
    def single(self) -> ClauseElement:
        """The statement for one row: each value a bind parameter."""
        return self._build(lambda name: bindparam(name, type_=self.types[name]))

    @functools.cached_property
    def arrays(self) -> ClauseElement:
        """The statement for every row: each value a column of ``unnest(arrays) AS v``."""
        rows = (
            func.unnest(*(bindparam(name, type_=ARRAY(t)) for name, t in self.types.items()))
            .table_valued(*(column(name, t) for name, t in self.types.items()))
            .render_derived(name="v")
        )
        return self._build(lambda name: rows.c[name])


def execute_rows(conn: Executor, stmt: PerRow, params: Sequence[Mapping[str, Any]]) -> int:
    """Run ``stmt`` for every parameter set (see :class:`PerRow`); the number of rows changed in all."""
    if not params:
        return 0
    if conn.dialect.name != "postgresql":
        return execute_many(conn, stmt.single, params)
    arrays = dict(params[0])
    for name in stmt.types:
        arrays[name] = [p[name] for p in params]
    return execute(conn, stmt.arrays, arrays)
