"""The clock jumps forward past a lease's expiry (``QBWC_SESSION_TIMEOUT``) while QuickBooks works on a message."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import Engine, select

from qbwc_service.accounts import companies
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobState, QbwcSession, SessionState, utcnow
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator import QuickBooksEmulator
from qbwc_service.simulator.run import applied_twice
from tests.conftest import need_spec
from tests.faults.drive import run_until_done


def enqueue_work(engine: Engine) -> list[int]:
    with engine.begin() as conn:
        service = {"name": "Repairs", "sales_tax_code_ref": {"full_name": "Non"}, "sales_or_purchase": {"price": "90"}}
        ids = [
            jobs.enqueue(conn, "acme", "item_service_add", service).job_id,
            jobs.enqueue(conn, "acme", "customer_add", {"name": "Zoë"}).job_id,
        ]
        line = {"item_ref": {"full_name": "Repairs"}, "quantity": "1"}
        invoice = {"customer_ref": {"job": ids[1]}, "ref_number": "INV-1", "lines": [line]}
        ids.append(jobs.enqueue(conn, "acme", "invoice_add", invoice).job_id)
    return ids


def states(engine: Engine) -> list[JobState]:
    with engine.connect() as conn:
        return list(conn.execute(select(Job.state).order_by(Job.id)).scalars())


def test_an_answer_arriving_after_the_clock_jumped_past_the_lease_still_counts(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """Nothing swept the session meanwhile: the late answer settles its jobs as any answer would."""
    need_spec()
    enqueue_work(engine)
    quickbooks = QuickBooksEmulator()
    ticket = protocol.authenticate(company.username, company.token)[0]
    quickbooks.open_session()
    response = quickbooks.process_request(protocol.send_request_xml(ticket, quickbooks.hcp_response(), "", "US", 13, 0))
    later = utcnow() + timedelta(seconds=protocol.settings.session_timeout * 3)
    with time_machine.travel(later, tick=True):
        assert 0 <= protocol.receive_response_xml(ticket, response, "", "") <= 100
        run_until_done(protocol, company, quickbooks)
    assert states(engine) == [JobState.DONE] * 3
    assert applied_twice(quickbooks) == {}


def test_a_lease_expired_by_a_clock_jump_is_looked_up_not_sent_twice(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """Another company's authenticate after the jump abandons the session; its late answer ends nothing
    else, and the next run finds each record in QuickBooks instead of entering it again."""
    need_spec()
    enqueue_work(engine)
    with engine.begin() as conn:
        other = companies.create_company(conn, "other", "other-qbwc")
        jobs.enqueue(conn, "other", "customer_add", {"name": "Someone"})
    quickbooks = QuickBooksEmulator()
    ticket = protocol.authenticate(company.username, company.token)[0]
    quickbooks.open_session()
    request = protocol.send_request_xml(ticket, quickbooks.hcp_response(), "", "US", 13, 0)
    response = quickbooks.process_request(request)  # QuickBooks applied it ...
    later = utcnow() + timedelta(seconds=protocol.settings.session_timeout + 60)
    with time_machine.travel(later, tick=True):
        assert protocol.authenticate(other.username, other.token)[0]  # ... its sweep finds the lease expired
        with engine.connect() as conn:
            assert conn.execute(select(QbwcSession.state).where(QbwcSession.ticket == ticket)).scalar_one() == (
                SessionState.ABANDONED
            )
        assert set(states(engine)[:3]) == {JobState.QUEUED}
        assert protocol.receive_response_xml(ticket, response, "", "") == -1  # ... and the late answer changes nothing
        quickbooks.close_session()
        run_until_done(protocol, company, quickbooks)
    assert states(engine)[:3] == [JobState.DONE] * 3
    assert applied_twice(quickbooks) == {}
    assert len(quickbooks.records("Invoice")) == 1
