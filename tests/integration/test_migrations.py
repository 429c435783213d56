"""Alembic owns the schema: after upgrade head, autogenerate finds nothing to add; data migrations keep the data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, insert, inspect, text

from qbwc_service.accounts import companies
from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Job, JobEvent, JobState, utcnow
from qbwc_service.queue import jobs, views
from tests import pg
from tests.conftest import postgres_url


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


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database nothing has migrated yet: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.sqlite3'}"
        return
    found = pg.detected()
    if found.url is None:
        pytest.skip(found.reason)
    schema = f"qbwc_blank_{uuid.uuid4().hex[:10]}"
    admin = make_engine(found.url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_url(found.url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _xml_of(engine: Engine, job_id: int) -> tuple[str | None, str | None]:
    with engine.connect() as conn:
        detail = views.load_job_detail(conn, job_id)
    return detail["request_xml"], detail["response_xml"]


def test_0014_keeps_the_xml_of_jobs_from_before_their_events_carried_it(blank_url: str) -> None:
    """A job whose XML is on its row only (before 0006) shows it after 0014; a downgrade puts it back on the row."""
    engine = make_engine(blank_url)
    try:
        migrate.upgrade(engine, "0011")
        now = utcnow()
        with engine.begin() as conn:  # the schema of 0011 is the models' but for 0014's data
            company = companies.create_company(conn, "Old Shop", "old-shop").id
            old, new = (
                conn.execute(
                    insert(Job).values(company_id=company, kind="qbxml", payload={}, state=JobState.DONE, attempts=1,
                                       created_at=now, updated_at=now, request_xml=rq, response_xml=rs)
                    .returning(Job.id)
                ).scalar_one()
                for rq, rs in (("<OldRq/>", "<OldRs/>"), (None, None))
            )  # fmt: skip
            conn.execute(insert(JobEvent).values(job_id=old, at=now, actor="qbwc", message="done", to_state="done"))
        migrate.upgrade(engine)
        assert _xml_of(engine, old) == ("<OldRq/>", "<OldRs/>")
        with engine.begin() as conn:  # what this release writes: the XML on the events only
            jobs.events(conn, [{"job_id": new, "to_state": "in_flight", "request_xml": "<NewRq/>"},
                               {"job_id": new, "to_state": "done", "response_xml": "<NewRs/>"}])  # fmt: skip
        assert _xml_of(engine, new) == ("<NewRq/>", "<NewRs/>")
        migrate.upgrade(engine)  # nothing copied twice
        with engine.connect() as conn:
            copies = conn.execute(text("SELECT count(*) FROM job_event WHERE actor = 'migration'")).scalar_one()
        assert copies == 1

        with engine.begin() as conn:
            command.downgrade(_config(conn, engine), "0011")
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT id, request_xml || response_xml FROM job")).all())
            copies = conn.execute(text("SELECT count(*) FROM job_event WHERE actor = 'migration'")).scalar_one()
        assert rows == {old: "<OldRq/><OldRs/>", new: "<NewRq/><NewRs/>"} and copies == 0
    finally:
        engine.dispose()


def _config(conn: Connection, engine: Engine) -> Config:
    cfg = migrate.alembic_config(engine)
    cfg.attributes["connection"] = conn
    return cfg
