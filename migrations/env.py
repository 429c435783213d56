"""Alembic environment: runs migrations on the connection or URL the service hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Base

config = context.config
target_metadata = Base.metadata

#: Indexes written by hand in migrations because autogenerate cannot compare them
#: (expression columns such as ``priority DESC``); autogenerate leaves them alone.
HAND_WRITTEN_INDEXES = frozenset({"ix_job_next"})

#: Any number: the key of the PostgreSQL advisory lock that serialises concurrent upgrades.
MIGRATION_LOCK_KEY = 0x51B3C


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "index" and name in HAND_WRITTEN_INDEXES)


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        include_object=_include_object,
        transaction_per_migration=True,
    )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET lock_timeout = '5s'"))
        connection.execute(text("SET statement_timeout = '120s'"))
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            connection.commit()


def run_migrations_online() -> None:
    """Migrate through the given connection, or one opened on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
