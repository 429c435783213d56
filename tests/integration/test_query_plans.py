"""PostgreSQL plans the queue's statements for their values, however often they run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, text

from qbwc_service.accounts import companies
from qbwc_service.db import prepared
from qbwc_service.db.engine import make_engine
from qbwc_service.db.types import utcnow
from qbwc_service.qbwc import sessions
from qbwc_service.queue import jobs

pytestmark = [pytest.mark.postgres]


def test_prepared_queue_statements_get_a_plan_for_their_values(pg_url: str) -> None:
    """After psycopg prepares a statement (its fifth run), each run still gets a custom plan.

    A generic plan, made without the job states the statements pass as parameters, read every
    dependency of every company: 11 ms per authenticate at a thousand queued jobs, not 0.9.
    """
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        first = jobs.enqueue(conn, "acme", "customer_add", {"name": "Ann"}).job_id
        jobs.enqueue(conn, "acme", "customer_add", {"name": "Bob"}, depends_on=first)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
        for _ in range(8):  # past psycopg's prepare threshold and PostgreSQL's five custom plans
            assert jobs.outlook(conn, company.id) == jobs.Outlook(ready=True, queued=2)
        generic = conn.execute(
            text("SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE 'SELECT EXISTS%'")
        ).scalars().all()  # fmt: skip
    assert generic == [0]
    engine.dispose()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _scans_of_job(conn: Connection, stmt: Any, params: dict[str, Any]) -> list[str]:
    """The plan nodes that read the job table whole (sequential scans), as PostgreSQL runs ``stmt``."""
    compiled = prepared.prepare(stmt, conn.dialect)
    cursor = conn.connection.driver_connection.cursor()
    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.sql}", compiled.parameters(params))
    ((plan,),) = cursor.fetchone()
    cursor.close()
    return [
        f"{node['Node Type']} on {node.get('Alias')}"
        for node in _nodes(plan["Plan"])
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "job"
    ]


def test_a_session_reads_its_own_company_not_every_job_kept(pg_url: str) -> None:
    """The reads of a session go through its company's jobs: however many done jobs the table keeps.

    With most jobs done, PostgreSQL estimated the jobs that block others (in flight, backing
    off) at one row and read the whole table to find them, in every sendRequestXML: 20-58 ms
    per call at 21,000 jobs, growing with the history kept.
    """
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        big = companies.create_company(conn, "big", "big-qbwc")
        first = jobs.enqueue(conn, "acme", "customer_add", {"name": "Ann"}).job_id
        jobs.enqueue(conn, "acme", "customer_add", {"name": "Bob"}, depends_on=first)
        jobs.enqueue(conn, "acme", "customer_add", {"name": "Cy"})
        # A day queued behind them, and another company's bigger day: each even job after the odd one before it.
        for who, count in ((company.id, 3000), (big.id, 20000)):
            conn.execute(
                text(
                    "INSERT INTO job (company_id, kind, payload, priority, state, attempts, max_attempts, step, "
                    "send_alone, created_at, updated_at) SELECT :company, 'customer_add', "
                    "json_build_object('name', 'N' || g), 0, 'queued', 0, 5, 0, false, now(), now() "
                    "FROM generate_series(1, :count) g"
                ),
                {"company": who, "count": count},
            )
            conn.execute(
                text(
                    "INSERT INTO job_dependency (job_id, depends_on_id, ref) SELECT id, id - 1, false FROM job "
                    "WHERE company_id = :company AND id > :first + 3 AND id % 2 = 0"
                ),
                {"company": who, "first": first},
            )
        now = utcnow()
        ticket = sessions.start(conn, company.id, planned=3003, now=now)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # as autovacuum would, while nearly every job is queued
        conn.execute(text("UPDATE job SET state = 'done' WHERE company_id = :big"), {"big": big.id})  # the day passes
    with engine.connect() as conn:
        params = {"p_ticket": ticket, "p_now": now, "p_window": 50, "p_company": company.id}
        for name, stmt in (
            ("candidates", jobs._candidates_stmt("postgresql")),
            ("ready candidates", jobs._candidates_stmt("postgresql", strict=True)),
            ("outlook", jobs._outlook_stmt()),
            ("has_work", jobs._has_work_stmt()),
        ):
            assert _scans_of_job(conn, stmt, params) == [], name
        _session, found = jobs.session_candidates(conn, ticket, limit=50, now=now)
        assert [j.payload["name"] for j in found][:3] == ["Ann", "Bob", "Cy"] and len(found) == 50
        # A message's jobs are leased and settled by one statement each, over arrays: through the keys.
        ids = [j.id for j in found]
        lease = {"p_ticket": ticket, "p_now": now, "p_id": ids, "p_xml": ["<CustomerAddRq/>"] * len(ids)}
        assert _scans_of_job(conn, jobs._claim_stmt().arrays, lease) == [], "claim"
        nothing: list[None] = [None] * len(ids)
        outcome = {
            "p_ticket": ticket, "p_now": now, "p_id": ids, "p_state": ["done"] * len(ids), "p_code": [0] * len(ids),
            "p_severity": ["Info"] * len(ids), "p_message": ["Status OK"] * len(ids), "p_error": nothing,
            "p_response": nothing, "p_result": [{"ListID": "1"}] * len(ids), "p_finished": [now] * len(ids),
            "p_not_before": nothing, "p_uncount": [0] * len(ids), "p_send_alone": nothing,
        }  # fmt: skip
        assert _scans_of_job(conn, jobs._settle_stmt().arrays, outcome) == [], "settle"
    engine.dispose()
