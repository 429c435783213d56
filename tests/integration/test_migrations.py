"""Alembic owns the schema: after upgrade head, autogenerate finds nothing to add."""

from __future__ import annotations

from sqlalchemy import inspect

from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine


def test_upgrade_head_matches_the_models(db_url: str) -> None:
    """The migrated database has every table and `alembic check` finds no difference."""
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)  # idempotent on an up-to-date database
        tables = set(inspect(engine).get_table_names())
        assert {"company", "job", "job_event", "qbwc_session", "staff_user", "api_key", "app_secret"} <= tables
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("job")}
        assert {"ix_job_next", "ix_job_creates", "ix_job_created"} <= indexes  # ix_job_next is hand-written
        assert "ix_job_ticket" not in indexes  # dropped by 0003
        migrate.check(engine)
    finally:
        engine.dispose()
