"""Whole Web Connector conversations over HTTP, driven by zeep on the official WSDL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import time_machine
from lxml import etree
from sqlalchemy import Engine, select, update

from qbwc_service.accounts import companies
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Company, Job, JobEvent, JobState, QbwcSession, SessionState, utcnow
from qbwc_service.queue import jobs
from tests.conftest import LiveServer
from tests.helpers import HCP_RESPONSE, customer_add, customer_ret, last_xml, qbwc, response_doc, rs


def enqueue_customers(engine: Engine, *names: str, **kwargs: Any) -> list[int]:
    with engine.begin() as conn:
        return [jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add(n)}, **kwargs).job_id for n in names]


def job_row(engine: Engine, job_id: int) -> Job:
    from sqlalchemy.orm import Session

    with Session(engine) as db:
        found = db.get(Job, job_id)
        assert found is not None
        return found


def hours_later(hours: int) -> Any:
    """The clock ``hours`` ahead, still ticking: that long without a word from a Web Connector."""
    return time_machine.travel(utcnow() + timedelta(hours=hours), tick=True)


def start(svc: Any, company: NewCompany) -> str:
    assert svc.clientVersion("2.3.0.215") in (None, "")
    ticket, status = svc.authenticate(company.username, company.token)[:2]
    assert status in (None, ""), status
    return str(ticket)


def test_whole_session_posts_jobs_and_records_results(
    live_server: LiveServer, engine: Engine, company: NewCompany
) -> None:
    """A run from serverVersion to closeConnection sends queued jobs in one message and records their ListIDs."""
    ids = enqueue_customers(engine, "Bob's Garage", "Zoë & Co")
    svc = qbwc(live_server.url + "/qbwc")
    assert svc.serverVersion().startswith("qbwc-service")
    ticket = start(svc, company)
    request = svc.sendRequestXML(ticket, HCP_RESPONSE, r"C:\Books\acme.qbw", "US", 16, 0)
    doc = etree.fromstring(request.encode())
    assert doc.tag == "QBXML"
    assert doc.getprevious().target == "qbxml" and doc.getprevious().get("version") == "16.0"
    sent = doc.find("QBXMLMsgsRq")
    assert sent.get("onError") == "continueOnError"
    assert [r.get("requestID") for r in sent] == [str(i) for i in ids]
    assert [r.findtext("CustomerAdd/Name") for r in sent] == ["Bob's Garage", "Zoë & Co"]
    answer = response_doc(
        rs(str(ids[0]), ret=customer_ret("80000001-1", "Bob's Garage")),
        rs(str(ids[1]), ret=customer_ret("80000002-1", "Zoë & Co")),
    )
    assert svc.receiveResponseXML(ticket, answer, "", "") == 100
    summary = svc.closeConnection(ticket)
    assert "2 done" in summary and "0 failed" in summary
    first, second = job_row(engine, ids[0]), job_row(engine, ids[1])
    assert (first.state, second.state) == (JobState.DONE, JobState.DONE)
    assert first.result == {
        "ListID": "80000001-1",
        "EditSequence": "1700000000",
        "FullName": "Bob's Garage",
        "Name": "Bob's Garage",
    }
    sent, _ = last_xml(engine, ids[0])
    assert first.ticket is None and sent and 'requestID="' in sent
    assert "80000002-1" in (last_xml(engine, ids[1])[1] or "")
    with engine.connect() as conn:
        acme = conn.execute(select(Company).where(Company.name == "acme")).one()
        session = conn.execute(select(QbwcSession).where(QbwcSession.ticket == ticket)).one()
        history = (
            conn.execute(select(JobEvent.to_state).where(JobEvent.job_id == ids[0]).order_by(JobEvent.id))
            .scalars()
            .all()
        )
    assert acme.qbxml_version == "16.0" and acme.reported_company_file == r"C:\Books\acme.qbw"
    assert acme.host_info["edition"] == "Enterprise" and acme.host_info["sales_tax_enabled"] is True
    assert session.state == SessionState.CLOSED and (session.done, session.failed, session.round_trips) == (2, 0, 1)
    assert history == ["queued", "in_flight", "done"]


def test_wrong_token_unknown_user_and_disabled_company_get_nvu(
    live_server: LiveServer, engine: Engine, company: NewCompany
) -> None:
    """authenticate answers nvu for a wrong token, an unknown user and a disabled connection."""
    enqueue_customers(engine, "A")
    svc = qbwc(live_server.url + "/qbwc")
    assert svc.authenticate(company.username, "wrong")[1] == "nvu"
    assert svc.authenticate("nobody", company.token)[1] == "nvu"
    with engine.begin() as conn:
        conn.execute(update(Company).values(enabled=False))
    assert svc.authenticate(company.username, company.token)[1] == "nvu"


def test_no_work_answers_none(live_server: LiveServer, company: NewCompany) -> None:
    """With nothing queued authenticate answers none and opens no session."""
    svc = qbwc(live_server.url + "/qbwc")
    assert svc.authenticate(company.username, company.token)[1] == "none"


def test_unknown_ticket_is_answered_gracefully(live_server: LiveServer, company: NewCompany) -> None:
    """Every ticketed call with an unknown ticket gets a protocol answer, never a fault."""
    svc = qbwc(live_server.url + "/qbwc")
    assert svc.sendRequestXML("no-such-ticket", "", "", "US", 13, 0) in (None, "")
    assert svc.receiveResponseXML("no-such-ticket", response_doc(rs("1")), "", "") == -1
    assert "unknown" in svc.getLastError("no-such-ticket")
    assert svc.connectionError("no-such-ticket", "0x80040408", "QuickBooks not found") == "done"
    assert svc.closeConnection("no-such-ticket") == "Session closed."


def test_error_status_fails_job_with_explanation(live_server: LiveServer, engine: Engine, company: NewCompany) -> None:
    """A 3100 answer fails the job with QuickBooks' status and a sentence support staff can act on."""
    (job_id,) = enqueue_customers(engine, "Dup")
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    answer = response_doc(rs(str(job_id), 3100, message='The name "Dup" of the list element is already in use.'))
    assert svc.receiveResponseXML(ticket, answer, "", "") == 100
    job = job_row(engine, job_id)
    assert job.state == JobState.FAILED and job.status_code == 3100
    assert job.error and "already used" in job.error and "Dup" in job.error
    assert "1 failed" in svc.closeConnection(ticket)


def test_retryable_status_requeues_with_backoff(live_server: LiveServer, engine: Engine, company: NewCompany) -> None:
    """A 3180 (could not save) answer puts the job back in the queue for later, not failed."""
    (job_id,) = enqueue_customers(engine, "Busy")
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    assert svc.receiveResponseXML(ticket, response_doc(rs(str(job_id), 3180, message="error saving")), "", "") == 100
    job = job_row(engine, job_id)
    assert job.state == JobState.QUEUED and job.attempts == 1
    assert job.not_before is not None and job.not_before > utcnow() + timedelta(seconds=5)


def answer_one_by_one(svc: Any, ticket: str, ids: list[int]) -> list[int]:
    """Send and answer each job alone, in order; the percentages receiveResponseXML returned."""
    percents = []
    for job_id in ids:
        doc = etree.fromstring(svc.sendRequestXML(ticket, "", "", "US", 13, 0).encode())
        assert [r.get("requestID") for r in doc.find("QBXMLMsgsRq")] == [str(job_id)]
        percents.append(svc.receiveResponseXML(ticket, response_doc(rs(str(job_id))), "", ""))
    return percents


def test_percentage_counts_the_work_of_the_session(
    live_server: LiveServer, engine: Engine, company: NewCompany
) -> None:
    """receiveResponseXML reports the true share done and reaches 100 only at the end."""
    ids = enqueue_customers(engine, *(f"C{i}" for i in range(4)))
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    with engine.begin() as conn:  # a batch of one: four round trips
        conn.execute(update(Job).values(send_alone=True))
    percents = answer_one_by_one(svc, ticket, ids)
    assert percents == [25, 50, 75, 100]


def test_percentage_counts_jobs_waiting_on_others(live_server: LiveServer, engine: Engine, company: NewCompany) -> None:
    """Jobs that become ready as their dependencies finish are part of the session's work from the start."""
    ids: list[int] = []
    with engine.begin() as conn:
        for i in range(4):  # a chain: each waits on the one before
            payload = {"request": customer_add(f"C{i}")}
            ids.append(jobs.enqueue(conn, "acme", "qbxml", payload, depends_on=ids[-1] if ids else None).job_id)
        conn.execute(update(Job).values(send_alone=True))
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    percents = answer_one_by_one(svc, ticket, ids)
    assert percents == [25, 50, 75, 100]  # counting the ready ones only, 50 after the first


def test_qb_parse_error_isolates_the_bad_job(live_server: LiveServer, engine: Engine, company: NewCompany) -> None:
    """After 0x80040400 on a batch each job travels alone, so only the bad one fails."""
    ids = enqueue_customers(engine, "Good", "Bad", "Fine")
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    parse_error = "QuickBooks found an error when parsing the provided XML text stream."
    assert 0 <= svc.receiveResponseXML(ticket, "", "0x80040400", parse_error) < 100
    assert {job_row(engine, i).attempts for i in ids} == {0}
    outcomes = []
    for _ in ids:
        doc = etree.fromstring(svc.sendRequestXML(ticket, "", "", "US", 13, 0).encode())
        (request,) = doc.find("QBXMLMsgsRq")
        if request.findtext("CustomerAdd/Name") == "Bad":
            outcomes.append(svc.receiveResponseXML(ticket, "", "0x80040400", parse_error))
        else:
            outcomes.append(svc.receiveResponseXML(ticket, response_doc(rs(request.get("requestID"))), "", ""))
    assert outcomes[-1] == 100
    states = [job_row(engine, i).state for i in ids]
    assert states == [JobState.DONE, JobState.FAILED, JobState.DONE]
    assert "0x80040400" in (job_row(engine, ids[1]).error or "")


def test_other_hresult_ends_session_and_requeues(live_server: LiveServer, engine: Engine, company: NewCompany) -> None:
    """An hresult other than a parse error ends the run (-1), getLastError says why, the job waits for the next run."""
    (job_id,) = enqueue_customers(engine, "X")
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    assert svc.receiveResponseXML(ticket, "", "0x80040408", "Could not start QuickBooks.") == -1
    assert "0x80040408" in svc.getLastError(ticket) and "Could not start QuickBooks" in svc.getLastError(ticket)
    assert job_row(engine, job_id).state == JobState.QUEUED


def test_abandoned_session_returns_jobs_to_the_queue(
    live_server: LiveServer, engine: Engine, company: NewCompany
) -> None:
    """A session that goes quiet halfway releases its in-flight jobs at the next authenticate."""
    (job_id,) = enqueue_customers(engine, "Lost")
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    assert job_row(engine, job_id).state == JobState.IN_FLIGHT
    with hours_later(1):  # without a word from that QBWC
        new_ticket = start(svc, company)
        assert new_ticket != ticket
        job = job_row(engine, job_id)
        assert (job.state == JobState.IN_FLIGHT and job.ticket == new_ticket) or job.state == JobState.QUEUED
        with engine.connect() as conn:
            old = conn.execute(select(QbwcSession.state).where(QbwcSession.ticket == ticket)).scalar_one()
            messages = conn.execute(select(JobEvent.message).where(JobEvent.job_id == job_id)).scalars().all()
        assert old == SessionState.ABANDONED
        assert any("went quiet" in (m or "") for m in messages)
        # The late answer of the abandoned session changes nothing.
        assert svc.receiveResponseXML(ticket, response_doc(rs(str(job_id))), "", "") == -1


def test_stalled_sessions_of_any_company_are_swept(
    live_server: LiveServer, engine: Engine, company: NewCompany
) -> None:
    """A login of one company, or the requeue-stalled command, releases the silent sessions of every company."""
    from click.testing import CliRunner

    from qbwc_service.cli import main

    (job_id,) = enqueue_customers(engine, "Stuck")
    with engine.begin() as conn:
        other = companies.create_company(conn, "other", "other-qbwc")
        other_job = jobs.enqueue(conn, "other", "qbxml", {"request": customer_add("Other")}).job_id
    svc = qbwc(live_server.url + "/qbwc")
    svc.sendRequestXML(start(svc, company), "", "", "US", 13, 0)
    with hours_later(1):  # acme's Web Connector went away
        other_ticket = start(svc, other)
        assert job_row(engine, job_id).state == JobState.QUEUED
        svc.sendRequestXML(other_ticket, "", "", "US", 13, 0)
    with hours_later(2):  # and now the other one is silent too
        url = engine.url.render_as_string(hide_password=False)
        result = CliRunner().invoke(main, ["--json", "requeue-stalled"], env={"QBWC_DATABASE_URL": url})
    assert result.exit_code == 0 and json.loads(result.stdout) == {"requeued": 1}
    assert job_row(engine, other_job).state == JobState.QUEUED


def test_a_session_waiting_on_quickbooks_is_not_swept(
    live_server: LiveServer, engine: Engine, company: NewCompany
) -> None:
    """sendRequestXML leaves its trace in the leases: a session whose jobs were just handed out is alive."""
    (job_id,) = enqueue_customers(engine, "Slow")
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    with engine.begin() as conn:  # QuickBooks took an hour to open the company file
        conn.execute(update(QbwcSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    with engine.begin() as conn:
        other = companies.create_company(conn, "other", "other-qbwc")
    assert svc.authenticate(other.username, other.token)[1] == "none"  # a login sweeps every company
    assert job_row(engine, job_id).state == JobState.IN_FLIGHT
    assert (
        svc.receiveResponseXML(ticket, response_doc(rs(str(job_id), ret=customer_ret("80000009-1", "Slow"))), "", "")
        == 100
    )
    assert job_row(engine, job_id).state == JobState.DONE


def test_close_halfway_and_connection_error_requeue(
    live_server: LiveServer, engine: Engine, company: NewCompany
) -> None:
    """closeConnection with jobs in flight, and connectionError, put those jobs back in the queue."""
    (job_id,) = enqueue_customers(engine, "Half")
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    assert "1 to retry" in svc.closeConnection(ticket)
    assert job_row(engine, job_id).state == JobState.QUEUED
    ticket = start(svc, company)
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    assert svc.connectionError(ticket, "0x80040408", "QuickBooks is not running") == "done"
    job = job_row(engine, job_id)
    assert job.state == JobState.QUEUED and "QuickBooks is not running" in (job.error or "")


def test_unexpected_request_ids_are_ignored(live_server: LiveServer, engine: Engine, company: NewCompany) -> None:
    """Responses for requestIDs the session never sent change no job."""
    ids = enqueue_customers(engine, "Mine", "Other")
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == ids[1]).values(priority=-1, send_alone=True))
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    answer = response_doc(rs(str(ids[0])), rs(str(ids[1]), 3100), rs("banana", 0))
    assert svc.receiveResponseXML(ticket, answer, "", "") == 50
    assert job_row(engine, ids[0]).state == JobState.DONE
    assert job_row(engine, ids[1]).state == JobState.QUEUED and job_row(engine, ids[1]).attempts == 0


def test_dependencies_wait_for_their_job(live_server: LiveServer, engine: Engine, company: NewCompany) -> None:
    """A dependent goes after its dependency in the same message, and fails naming it when it fails there."""
    with engine.begin() as conn:
        parent = jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("P")}).job_id
        child = jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("C")}, depends_on=parent).job_id
        orphan_parent = jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Q")}).job_id
        orphan = jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("R")}, depends_on=orphan_parent).job_id
    svc = qbwc(live_server.url + "/qbwc")
    ticket = start(svc, company)
    first = etree.fromstring(svc.sendRequestXML(ticket, "", "", "US", 13, 0).encode())
    assert [r.get("requestID") for r in first.find("QBXMLMsgsRq")] == [str(parent), str(child), str(orphan_parent),
                                                                         str(orphan)]  # fmt: skip
    answer = response_doc(rs(str(parent)), rs(str(child)), rs(str(orphan_parent), 3090), rs(str(orphan), 3140))
    assert svc.receiveResponseXML(ticket, answer, "", "") == 100
    assert job_row(engine, child).state == JobState.DONE
    failed = job_row(engine, orphan)
    assert failed.state == JobState.FAILED and failed.error.startswith(jobs.dependency_failed(orphan_parent))


def test_client_version_warns_and_refuses_old_web_connectors(live_server: LiveServer) -> None:
    """clientVersion refuses a Web Connector below the minimum (E:) and warns below the recommended one (W:)."""
    from tests.conftest import make_test_app

    svc = qbwc(live_server.url + "/qbwc")
    assert svc.clientVersion("2.0.0.116").startswith("W:")
    assert svc.clientVersion("2.3.0.215") in (None, "")
    strict = make_test_app(
        live_server.app.extensions["qbwc"].settings.effective_database_url, min_qbwc_version="2.2.0.0"
    )
    with LiveServer(strict) as other:
        assert qbwc(other.url + "/qbwc").clientVersion("2.1.0.30").startswith("E:")


def test_interactive_operations_answer(live_server: LiveServer) -> None:
    """getInteractiveURL, interactiveDone and interactiveRejected answer although interactive mode is unused."""
    svc = qbwc(live_server.url + "/qbwc", interactive=True)
    assert svc.getInteractiveURL("t", "s") in (None, "")
    assert svc.interactiveDone("t") == "Done"
    assert "not used" in svc.interactiveRejected("t", "user said no")
