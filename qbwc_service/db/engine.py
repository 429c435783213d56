"""Engines and sessions: SQLite tuned for concurrent workers, PostgreSQL as is."""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

if TYPE_CHECKING:  # the ORM is loaded by those who use it, not by every engine
    from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(engine_or_url: Engine | str) -> bool:
    """Whether the engine or URL points at SQLite."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(
    url: str, *, echo: bool = False, pool_size: int | None = None, statement_timeout: int | None = None
) -> Engine:
    """Create an engine; SQLite files get WAL, a busy timeout and enforced foreign keys.

    PostgreSQL only: ``pool_size`` connections kept (and as many again in a burst), and
    ``statement_timeout`` seconds as both the statement and the idle-in-transaction
    timeout of every connection (0 or None: the server's own).
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs["pool_pre_ping"] = True
    if pool_size:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", functools.partial(_pg_on_connect, milliseconds=(statement_timeout or 0) * 1000))
    return engine


def _pg_on_connect(dbapi_conn: Any, _record: object, *, milliseconds: int) -> None:
    """One round trip per new connection: custom plans, and the timeouts when set.

    psycopg prepares a statement on its fifth run, and PostgreSQL then soon plans it once for
    any parameters. The queue's statements pass job states as parameters, and a plan made
    without knowing them reads every dependency of every company (11 ms where a plan for
    the values takes 0.9, planning included, at a thousand queued jobs).

    A service transaction never waits on a person, so one that sits idle for the statement
    timeout belongs to a stuck (stopped, hung) worker holding locks.
    """
    settings = {"plan_cache_mode": "force_custom_plan"}
    if milliseconds:
        settings.update(statement_timeout=str(milliseconds), idle_in_transaction_session_timeout=str(milliseconds))
    calls = ", ".join(f"set_config('{name}', %({name})s, false)" for name in settings)
    with dbapi_conn.cursor() as cur:
        cur.execute(f"SELECT {calls}", settings)
    dbapi_conn.commit()


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_on_begin), per its SQLite docs.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-32000")  # 32 MB of page cache per connection
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front, so two workers never both read a job
    # as queued and then fight over the upgrade to a write lock.
    # Straight to the driver: this runs for every transaction, so skip SQLAlchemy's machinery.
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` that keeps loaded objects usable after commit."""
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)
