"""A new authenticate supersedes the company's quiet session; a second Web Connector is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import load_settings
from qbwc_service.db.models import Company, Job, JobEvent, JobState, QbwcSession, SessionState, utcnow
from qbwc_service.qbwc import sessions
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from tests.helpers import customer_ret, response_doc, rs, send, start


def protocol_with(engine: Engine, **settings: Any) -> Protocol:
    """The QBWC operations on the test database with these settings."""
    return Protocol(engine, load_settings({"log_level": "WARNING", **settings}, environ={}))


def enqueue(engine: Engine, *names: str) -> list[int]:
    with engine.begin() as conn:
        return [jobs.enqueue(conn, "acme", "customer_add", {"name": n}).job_id for n in names]


def session(engine: Engine, ticket: str) -> QbwcSession:
    from sqlalchemy.orm import Session

    with Session(engine) as db:
        found = db.get(QbwcSession, ticket)
        assert found is not None
        return found


def job(engine: Engine, job_id: int) -> Job:
    from sqlalchemy.orm import Session

    with Session(engine) as db:
        found = db.get(Job, job_id)
        assert found is not None
        return found


def leases_of(engine: Engine, job_id: int) -> int:
    """How many times the job went in flight."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(JobEvent)
                .where(JobEvent.job_id == job_id, JobEvent.to_state == JobState.IN_FLIGHT)
            ).scalar_one()
        )


def quiet_for(engine: Engine, seconds: int) -> None:
    """Every open session's last call and every lease were that many seconds ago."""
    then = utcnow() - timedelta(seconds=seconds)
    with engine.begin() as conn:
        conn.execute(update(QbwcSession).where(QbwcSession.state == SessionState.OPEN).values(last_seen_at=then))
        conn.execute(update(Job).where(Job.leased_at.is_not(None)).values(leased_at=then))


def test_authenticate_after_a_lost_reply_supersedes_and_looks_the_add_up(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """The Web Connector back at once after a lost reply takes over: the Add comes back marked, looked up first."""
    (job_id,) = enqueue(engine, "Zoë's Garage")
    old = start(protocol, company)
    assert [r.tag for r in send(protocol, old)] == ["CustomerAddRq"]  # ... and the reply is lost
    new = start(protocol, company)
    assert new != old
    gone = session(engine, old)
    assert (gone.state, gone.superseded_by, gone.last_error) == (
        SessionState.SUPERSEDED, new, sessions.SUPERSEDED_TEXT,
    )  # fmt: skip
    assert protocol.get_last_error(old) == sessions.SUPERSEDED_TEXT
    assert session(engine, new).planned == 1
    with engine.connect() as conn:
        why = conn.execute(
            select(JobEvent.message).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc()).limit(1)
        ).scalar_one()
    assert why is not None and "came back with a new session" in why
    (lookup,) = send(protocol, new)
    assert lookup.tag == "CustomerQueryRq" and lookup.findtext("FullName") == "Zoë's Garage"
    assert lookup.get("requestID", "").startswith(f"{job_id}.")
    nothing = rs(lookup.get("requestID", ""), 1, name="CustomerQueryRs", severity="Info")
    assert protocol.receive_response_xml(new, response_doc(nothing), "", "") >= 0
    (add,) = send(protocol, new)
    assert add.tag == "CustomerAddRq"
    answer = response_doc(rs(add.get("requestID", ""), ret=customer_ret("80000001-1", "Zoë's Garage")))
    assert protocol.receive_response_xml(new, answer, "", "") == 100
    assert job(engine, job_id).state == JobState.DONE


def test_a_session_with_nothing_in_flight_is_superseded_even_when_protected(
    engine: Engine, company: NewCompany
) -> None:
    """With supersede_after set, a session that holds no job is still superseded at once: it has nothing to lose."""
    protocol = protocol_with(engine, supersede_after=600)
    enqueue(engine, "Acme")
    old = start(protocol, company)  # QBWC went away before its first sendRequestXML
    new = start(protocol, company)
    assert session(engine, old).state == SessionState.SUPERSEDED
    assert session(engine, new).state == SessionState.OPEN


def test_quickbooks_still_working_is_not_superseded(engine: Engine, company: NewCompany) -> None:
    """With supersede_after 60, a session leased moments ago keeps its jobs: authenticate answers busy with the wait."""
    protocol = protocol_with(engine, supersede_after=60)
    (job_id,) = enqueue(engine, "Slow")
    ticket = start(protocol, company)
    (request,) = send(protocol, ticket)
    status = protocol.authenticate(company.username, company.token)
    assert status[:2] == ["", "busy"] and 1 <= int(status[2]) <= 60
    held = job(engine, job_id)
    assert (held.state, held.ticket) == (JobState.IN_FLIGHT, ticket)
    answer = response_doc(rs(request.get("requestID", ""), ret=customer_ret("80000009-1", "Slow")))
    assert protocol.receive_response_xml(ticket, answer, "", "") == 100
    assert job(engine, job_id).state == JobState.DONE
    assert leases_of(engine, job_id) == 1


def test_quiet_for_the_setting_is_superseded(engine: Engine, company: NewCompany) -> None:
    """With supersede_after 60, a session whose last call and lease are 61 s old is superseded."""
    protocol = protocol_with(engine, supersede_after=60)
    (job_id,) = enqueue(engine, "Later")
    old = start(protocol, company)
    send(protocol, old)
    quiet_for(engine, 61)
    new = start(protocol, company)
    assert session(engine, old).state == SessionState.SUPERSEDED
    (lookup,) = send(protocol, new)
    assert lookup.tag == "CustomerQueryRq"
    assert job(engine, job_id).ticket == new


def test_superseded_ticket_calling_again_is_refused_and_recorded(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """The old ticket's late answer settles nothing, its calls get clean answers, and the rival is recorded."""
    (job_id,) = enqueue(engine, "Twice")
    old = start(protocol, company)
    (first,) = send(protocol, old)
    new = start(protocol, company)
    (lookup,) = send(protocol, new)
    attempts = job(engine, job_id).attempts
    late = response_doc(rs(first.get("requestID", ""), ret=customer_ret("80000002-1", "Twice")))
    assert protocol.receive_response_xml(old, late, "", "") == -1
    held = job(engine, job_id)
    assert (held.state, held.ticket, held.attempts, held.result) == (JobState.IN_FLIGHT, new, attempts, None)
    assert protocol.send_request_xml(old, "", "", "US", 13, 0) == ""
    assert protocol.get_last_error(old) == sessions.RIVAL_TEXT
    assert protocol.connection_error(old, "0x80040408", "Could not start QuickBooks.") == "done"
    assert protocol.close_connection(old) == sessions.RIVAL_TEXT
    with engine.connect() as conn:
        rival = conn.execute(select(Company.rival_seen_at, Company.rival_detail)).one()
    assert rival.rival_seen_at is not None
    assert rival.rival_detail and f"session {old[:8]}" in rival.rival_detail and new[:8] in rival.rival_detail
    # From now on the company's open session is not superseded: the next authenticate is refused.
    assert protocol.authenticate(company.username, company.token)[:2] == ["", "busy"]
    found = rs(lookup.get("requestID", ""), name="CustomerQueryRs", ret=customer_ret("80000002-1", "Twice"))
    assert protocol.receive_response_xml(new, response_doc(found), "", "") == 100
    done = job(engine, job_id)
    assert (done.state, done.result and done.result["ListID"]) == (JobState.DONE, "80000002-1")
    assert leases_of(engine, job_id) == 2  # once per session, never twice to one
    with engine.connect() as conn:
        settled = conn.execute(
            select(func.count())
            .select_from(JobEvent)
            .where(JobEvent.job_id == job_id, JobEvent.to_state == JobState.DONE)
        ).scalar_one()
    assert settled == 1


def test_authenticates_alternating_with_an_active_session_show_a_rival(engine: Engine, company: NewCompany) -> None:
    """Two authenticates refused while the session kept calling in between record a second Web Connector."""
    protocol = protocol_with(engine, supersede_after=60, batch_size=1)
    enqueue(engine, "One", "Two")
    ticket = start(protocol, company)
    (first,) = send(protocol, ticket)
    assert protocol.authenticate(company.username, company.token)[1] == "busy"
    answer = response_doc(rs(first.get("requestID", ""), ret=customer_ret("80000003-1", "One")))
    assert 0 <= protocol.receive_response_xml(ticket, answer, "", "") < 100
    send(protocol, ticket)
    with engine.connect() as conn:
        assert conn.execute(select(Company.rival_seen_at)).scalar_one() is None
    assert protocol.authenticate(company.username, company.token)[1] == "busy"
    with engine.connect() as conn:
        rival = conn.execute(select(Company.rival_seen_at, Company.rival_detail)).one()
    assert rival.rival_seen_at is not None and rival.rival_detail and "kept calling" in rival.rival_detail
    assert session(engine, ticket).state == SessionState.OPEN
