"""Multi-step jobs under random faults (lost replies, dropped requests, killed workers, edits in QuickBooks)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from qbwc_service.accounts import companies
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Job, JobState
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator import QuickBooksEmulator
from tests.emulator.conftest import needs_spec
from tests.emulator.driver import seed

pytestmark = needs_spec

#: What can happen to one round trip.
FAULTS = ("none", "none", "lost_reply", "dropped", "killed_worker", "edited_in_quickbooks")
SEEDED = ["Ann", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=st.lists(st.sampled_from(FAULTS), max_size=40))
def test_every_multi_step_job_ends_done_or_failed_and_nothing_is_duplicated(
    sqlite_template: Path, schedule: list[str]
) -> None:
    """Whatever the faults, each ensure, Mod and iterated query ends done or failed with a reason, none is lost."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "qbwc.sqlite3"
        shutil.copy(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            _run(engine, schedule)
        finally:
            engine.dispose()


def _run(engine: Any, schedule: list[str]) -> list[Any]:
    """Run the jobs through sessions with ``schedule``'s faults; check the invariants; the job rows."""
    config = load_settings({"log_level": "WARNING"}, environ={})
    qb = QuickBooksEmulator()
    ids = {name: seed(qb, "customer_add", {"name": name})["ListID"] for name in SEEDED}
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        queued = [
            jobs.enqueue(conn, "acme", kind, payload, max_attempts=8).job_id
            for kind, payload in (
                ("customer_ensure", {"name": "Zoë"}),
                ("customer_ensure", {"name": "Ann", "email": "ann@example.com"}),
                ("account_ensure", {"name": "Sales", "account_type": "Income"}),
                ("customer_mod", {"list_id": ids["Bob"], "company_name": "Bob Ltd"}),
                ("customer_query", {"iterate": True, "max_returned": 3}),
            )
        ]
    faults = iter(schedule)
    protocol = Protocol(engine, config)
    for _ in range(30):
        qb.open_session()
        ticket = protocol.authenticate(company.username, company.token)[0]
        if not ticket:
            break
        for _ in range(40):
            fault = next(faults, "none")
            if fault == "killed_worker":
                protocol = Protocol(engine, config)
            if fault == "edited_in_quickbooks":
                bob = next(c for c in qb.records("Customer") if c["ListID"] == ids["Bob"])
                seed(qb, "customer_mod", {"list_id": ids["Bob"], "edit_sequence": bob["EditSequence"], "notes": "x"})
            document = protocol.send_request_xml(ticket, "", "", "US", 13, 0)
            if not document:
                break
            if fault == "dropped":
                break  # the request never reached QuickBooks
            response = qb.process_request(document)
            if fault == "lost_reply":
                break  # QuickBooks applied it; the reply never came back
            if protocol.receive_response_xml(ticket, response, "", "") >= 100:
                break
        protocol.close_connection(ticket)
        qb.close_session()
    with engine.connect() as conn:
        rows = conn.execute(select(Job.id, Job.state, Job.error, Job.result).where(Job.id.in_(queued))).all()
    for row in rows:
        assert row.state in (JobState.DONE, JobState.FAILED), f"job {row.id} is still {row.state}"
        assert row.state is JobState.DONE or row.error, f"job {row.id} failed without a reason"
    names = [c["Name"] for c in qb.records("Customer")]
    assert len(names) == len(set(names)) and names.count("Zoë") <= 1
    assert len([a for a in qb.records("Account") if a["Name"] == "Sales"]) <= 1
    by_id = {r.id: r for r in rows}
    iterate = by_id[queued[-1]]
    if iterate.state is JobState.DONE:
        got = [r["ListID"] for r in iterate.result["records"]]
        assert len(got) == len(set(got)) and set(ids.values()) <= set(got)
    ensured = by_id[queued[0]]
    if ensured.state is JobState.DONE:
        assert qb.find("Customer", "Zoë") is not None
    if by_id[queued[3]].state is JobState.DONE:
        assert qb.find("Customer", "Bob")["CompanyName"] == "Bob Ltd"  # type: ignore[index]
    return list(rows)


@pytest.mark.parametrize("fault", ["lost_reply", "dropped", "killed_worker", "edited_in_quickbooks"])
def test_each_fault_alone_still_finishes_every_job(sqlite_template: Path, fault: str) -> None:
    """A schedule of one kind of fault (every third round trip) still gets every job done."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "qbwc.sqlite3"
        shutil.copy(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            rows = _run(engine, [fault, "none", "none"] * 6)
        finally:
            engine.dispose()
    assert [r.state for r in rows] == [JobState.DONE] * 5
