"""Prepared statements read and write exactly what SQLAlchemy's own execution would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db import prepared
from qbwc_service.db.models import Job, JobEvent, JobState
from qbwc_service.queue import jobs

J = Job.metadata.tables["job"]
E = JobEvent.metadata.tables["job_event"]


def _job_columns() -> select:  # type: ignore[type-arg]
    return select(J.c.id, J.c.state, J.c.payload, J.c.progress, J.c.not_before, J.c.kind).where(
        J.c.id == bindparam("p_id")
    )


def test_rows_match_sqlalchemy_execution(engine: Engine, company: NewCompany) -> None:
    when = datetime(2026, 11, 23, 15, 30, 1, 250000, tzinfo=UTC)
    stmt = (
        update(J)
        .where(J.c.id == bindparam("p_id"), J.c.state == JobState.QUEUED)
        .values(
            progress=bindparam("p_progress", type_=J.c.progress.type),
            not_before=bindparam("p_when", type_=J.c.not_before.type),
            attempts=J.c.attempts + 2,
        )
    )
    query = _job_columns()
    with engine.begin() as conn:
        job = jobs.enqueue(conn, "acme", "qbxml", {"request": "<CustomerQueryRq/>"})
        changed = prepared.execute(conn, stmt, {"p_id": job.job_id, "p_progress": {"verify": True}, "p_when": when})
        assert changed == 1
        (ours,) = prepared.fetch(conn, query, {"p_id": job.job_id})
        theirs = conn.execute(query, {"p_id": job.job_id}).one()
        attempts = conn.execute(select(J.c.attempts).where(J.c.id == job.job_id)).scalar_one()
    assert tuple(ours) == tuple(theirs)
    assert ours.state is JobState.QUEUED
    assert ours.payload == {"request": "<CustomerQueryRq/>"}
    assert ours.progress == {"verify": True}
    assert ours.not_before == when and ours.not_before.tzinfo is not None
    assert attempts == 2  # the literal in ``attempts + 2`` was bound from the statement itself


def test_execute_many_counts_every_row(engine: Engine, company: NewCompany) -> None:
    stmt = update(J).where(J.c.id == bindparam("p_id")).values(priority=bindparam("p_priority"))
    with engine.begin() as conn:
        requests = [{"request": f'<CustomerQueryRq requestID="{i}"/>'} for i in range(3)]
        ids = [jobs.enqueue(conn, "acme", "qbxml", request).job_id for request in requests]
        missing = max(ids) + 100
        count = prepared.execute_many(conn, stmt, [{"p_id": i, "p_priority": 7} for i in [*ids, missing]])
        priorities = conn.execute(select(J.c.priority).where(J.c.id.in_(ids))).scalars().all()
    assert count == 3
    assert priorities == [7, 7, 7]
    with engine.connect() as conn:
        assert prepared.execute_many(conn, stmt, []) == 0


#: What an array's text format must quote or escape (psycopg sends the arrays in binary).
ODD = '{a,b} "NULL" \\ é\n<Rs statusMessage="it\'s &amp; ok"/>'


def test_per_row_statements_write_each_row_its_own_values(engine: Engine, company: NewCompany) -> None:
    """A PerRow statement writes what one statement per row would, NULLs included (one over arrays on PostgreSQL)."""
    when = datetime(2026, 12, 2, 9, 15, 0, 500000, tzinfo=UTC)
    stmt = prepared.PerRow(
        lambda row: update(J)
        .where(J.c.id == row("p_id"), J.c.state == JobState.QUEUED)
        .values(state=row("p_state"), progress=row("p_progress"), not_before=row("p_when"), error=row("p_error"),
                priority=bindparam("p_priority")),
        p_id=J.c.id.type, p_state=J.c.state.type, p_progress=J.c.progress.type, p_when=J.c.not_before.type,
        p_error=J.c.error.type,
    )  # fmt: skip
    events = prepared.PerRow(
        lambda row: insert(E).from_select(["job_id", "at", "actor", "message"],
                                          select(row("p_job"), row("p_at"), row("p_actor"), row("p_message"))),
        p_job=E.c.job_id.type, p_at=E.c.at.type, p_actor=E.c.actor.type, p_message=E.c.message.type,
    )  # fmt: skip
    with engine.begin() as conn:
        ids = [jobs.enqueue(conn, "acme", "qbxml", {"request": f'<CustomerQueryRq requestID="{i}"/>'}).job_id
               for i in range(4)]  # fmt: skip
        jobs.cancel(conn, ids[3], actor="test")  # the guard leaves it alone
        rows = [
            {"p_id": ids[0], "p_state": JobState.DONE, "p_progress": {"page": 2}, "p_when": when, "p_error": None},
            {"p_id": ids[1], "p_state": JobState.FAILED, "p_progress": None, "p_when": None, "p_error": "it's 'bad'"},
            {"p_id": ids[2], "p_state": JobState.QUEUED, "p_progress": {"x": [1, None]}, "p_when": None,
             "p_error": ODD},
            {"p_id": ids[3], "p_state": JobState.DONE, "p_progress": None, "p_when": None, "p_error": None},
        ]  # fmt: skip
        changed = prepared.execute_rows(conn, stmt, [{**r, "p_priority": 4} for r in rows])
        got = conn.execute(
            select(J.c.state, J.c.progress, J.c.not_before, J.c.error, J.c.priority).where(J.c.id.in_(ids))
            .order_by(J.c.id)
        ).all()  # fmt: skip
        added = prepared.execute_rows(conn, events, [
            {"p_job": ids[0], "p_at": when, "p_actor": "test", "p_message": "one"},
            {"p_job": ids[2], "p_at": when, "p_actor": "test", "p_message": None},
            {"p_job": ids[1], "p_at": when, "p_actor": "test", "p_message": "NULL"},
        ])  # fmt: skip
        logged = conn.execute(select(E.c.job_id, E.c.at, E.c.message).where(E.c.actor == "test", E.c.at == when)
                              .order_by(E.c.job_id)).all()  # fmt: skip
        assert prepared.execute_rows(conn, stmt, []) == 0
    assert changed == 3
    assert [tuple(r) for r in got] == [
        (JobState.DONE, {"page": 2}, when, None, 4),
        (JobState.FAILED, None, None, "it's 'bad'", 4),
        (JobState.QUEUED, {"x": [1, None]}, None, ODD, 4),
        (JobState.CANCELLED, None, None, None, 0),
    ]
    assert added == 3
    assert [tuple(r) for r in logged] == [(ids[0], when, "one"), (ids[1], when, "NULL"), (ids[2], when, None)]


def test_aggregate_columns_are_reached_by_position(engine: Engine, company: NewCompany) -> None:
    now = datetime.now(UTC) + timedelta(seconds=1)
    with engine.begin() as conn:
        company_id = jobs.company_id_by_name(conn, "acme")
        assert jobs.outlook(conn, company_id, now=now) == jobs.Outlook(ready=False, queued=0)
        assert jobs.has_work(conn, company_id, "no-such-ticket") is False
        jobs.enqueue(conn, "acme", "qbxml", {"request": "<CustomerQueryRq/>"})
        assert jobs.outlook(conn, company_id, now=now) == jobs.Outlook(ready=True, queued=1)
        assert jobs.has_work(conn, company_id, "no-such-ticket") is True


def test_driver_errors_surface_as_sqlalchemy_errors(engine: Engine, company: NewCompany) -> None:
    stmt = insert(E).values(
        job_id=bindparam("p_job"), at=bindparam("p_at", type_=E.c.at.type), actor=bindparam("p_actor")
    )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        prepared.execute(conn, stmt, {"p_job": 424242, "p_at": datetime.now(UTC), "p_actor": "test"})


def test_a_missing_parameter_is_named(engine: Engine) -> None:
    with pytest.raises(prepared.PreparedStatementError, match="p_id"), engine.begin() as conn:
        prepared.fetch(conn, _job_columns(), {})


def test_expanding_parameters_are_refused(engine: Engine) -> None:
    stmt = select(J.c.id).where(J.c.id.in_(bindparam("p_ids", expanding=True)))
    with pytest.raises(prepared.PreparedStatementError, match="expanding"), engine.begin() as conn:
        prepared.fetch(conn, stmt, {"p_ids": [1]})


def test_transactions_commit_roll_back_and_return_connections(engine: Engine, company: NewCompany) -> None:
    """SQLite keeps one connection per thread until the thread ends; a failure rolls back and lets go of it."""
    import gc
    import threading

    transactions = prepared.Transactions(engine)
    holds = engine.dialect.name == "sqlite"
    stmt = update(J).where(J.c.id == bindparam("p_id")).values(priority=bindparam("p_priority"))
    with engine.begin() as conn:
        job_id = jobs.enqueue(conn, "acme", "qbxml", {"request": "<CustomerQueryRq/>"}).job_id
    pool: Any = engine.pool
    baseline = pool.checkedout()

    with transactions.begin() as tx:
        prepared.execute(tx, stmt, {"p_id": job_id, "p_priority": 3})
    assert pool.checkedout() == baseline + holds

    def fail_after_a_write() -> None:
        with transactions.begin() as tx:
            prepared.execute(tx, stmt, {"p_id": job_id, "p_priority": 9})
            raise RuntimeError("something went wrong after the write")

    with pytest.raises(RuntimeError):
        fail_after_a_write()
    assert pool.checkedout() == baseline
    with engine.connect() as conn:
        assert conn.execute(select(J.c.priority).where(J.c.id == job_id)).scalar_one() == 3

    def in_a_thread() -> None:
        with transactions.begin() as tx:
            prepared.execute(tx, stmt, {"p_id": job_id, "p_priority": 5})

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    del worker
    gc.collect()
    assert pool.checkedout() == baseline
    with engine.connect() as conn:
        assert conn.execute(select(J.c.priority).where(J.c.id == job_id)).scalar_one() == 5
