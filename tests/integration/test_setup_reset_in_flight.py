"""A reset while a setup step is in flight: the step finishes, but its ListID is not recorded in the mapping."""

from __future__ import annotations

from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobState
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.workflows.setup import mapping, reset, runs
from tests.helpers import HCP_RESPONSE, start


def test_a_step_answered_after_a_reset_records_nothing(protocol: Protocol, engine: Engine, company: NewCompany) -> None:
    """The answer to an account lookup that comes after a reset settles the job but leaves the mapping empty."""
    qb = QuickBooksEmulator(CompanyFacts())
    qb.special_account("Sales Income", "Income")
    with engine.begin() as conn:
        runs.start(conn, company.name, actor="test")
    ticket = start(protocol, company)
    first = protocol.send_request_xml(ticket, HCP_RESPONSE, "", "US", 13, 0)
    assert "PreferencesQueryRq" in first
    assert protocol.receive_response_xml(ticket, qb.process_request(first), "", "") < 100
    second = protocol.send_request_xml(ticket, "", "", "US", 13, 0)
    assert "AccountQueryRq" in second
    with engine.begin() as conn:
        done = reset.reset(conn, company.name, actor="support@example.com", reason="wrong file")
    assert done["forgotten"] == 0
    protocol.receive_response_xml(ticket, qb.process_request(second), "", "")
    with engine.connect() as conn:
        assert mapping.resolved(conn, company.id) == {}
        states = conn.execute(select(Job.reference, Job.state).where(Job.kind == "setup_ensure")).all()
    assert ("account:income: Sales Income", JobState.DONE) in [tuple(r) for r in states]
