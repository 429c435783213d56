"""Logins sweep every company's stalled sessions, each worker at most every ``session_timeout / 15``."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import Engine, select

from qbwc_service.accounts import companies
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobState, QbwcSession, SessionState, utcnow
from qbwc_service.qbwc.protocol import SWEEPS_PER_TIMEOUT, Protocol
from qbwc_service.queue import jobs
from tests.conftest import need_spec


def session_state(engine: Engine, ticket: str) -> SessionState:
    with engine.connect() as conn:
        return conn.execute(select(QbwcSession.state).where(QbwcSession.ticket == ticket)).scalar_one()


@pytest.fixture
def other(engine: Engine, company: NewCompany) -> NewCompany:
    """A second company, with nothing to do, whose logins sweep; acme has one job queued."""
    with engine.begin() as conn:
        jobs.enqueue(conn, "acme", "customer_add", {"name": "Zoë"})
        return companies.create_company(conn, "other", "other-qbwc")


def test_a_stalled_session_is_swept_by_the_first_login_after_the_sweep_interval(
    engine: Engine, company: NewCompany, other: NewCompany, protocol: Protocol
) -> None:
    """A login within the interval of the last sweep leaves a just-stalled session; the next one after it requeues."""
    need_spec()
    timeout = timedelta(seconds=protocol.settings.session_timeout)
    interval = timeout / SWEEPS_PER_TIMEOUT
    start = utcnow()

    def login_other_at(moment: timedelta) -> list[str]:
        with time_machine.travel(start + moment, tick=False):
            return protocol.authenticate(other.username, other.token)

    with time_machine.travel(start, tick=False):
        ticket = protocol.authenticate(company.username, company.token)[0]
        assert "<CustomerAddRq" in protocol.send_request_xml(ticket, "", "", "US", 13, 0)
    assert login_other_at(timeout - timedelta(seconds=1)) == ["", "none"]  # swept: acme not silent long enough
    assert login_other_at(timeout + timedelta(seconds=1)) == ["", "none"]  # within the interval: no sweep
    assert session_state(engine, ticket) == SessionState.OPEN
    assert login_other_at(timeout - timedelta(seconds=1) + interval) == ["", "none"]
    assert session_state(engine, ticket) == SessionState.ABANDONED
    with engine.connect() as conn:
        assert conn.execute(select(Job.state)).scalar_one() == JobState.QUEUED


def test_a_clock_set_back_does_not_stop_the_sweep(
    engine: Engine, company: NewCompany, other: NewCompany, protocol: Protocol
) -> None:
    """A sweep recorded "in the future" (the clock went back since) does not hold the next ones off."""
    need_spec()
    timeout = timedelta(seconds=protocol.settings.session_timeout)
    start = utcnow()
    with time_machine.travel(start + 10 * timeout, tick=False):
        protocol.authenticate(other.username, other.token)
    with time_machine.travel(start, tick=False):
        ticket = protocol.authenticate(company.username, company.token)[0]
        protocol.send_request_xml(ticket, "", "", "US", 13, 0)
    with time_machine.travel(start + timeout + timedelta(seconds=1), tick=False):
        protocol.authenticate(other.username, other.token)
    assert session_state(engine, ticket) == SessionState.ABANDONED
