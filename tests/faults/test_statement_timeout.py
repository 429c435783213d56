"""QBWC_STATEMENT_TIMEOUT on PostgreSQL: a call stuck behind a lock is cancelled and answered by the contract."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

from qbwc_service.accounts import companies
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import QbwcSession
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs

pytestmark = [pytest.mark.postgres]


def test_a_statement_past_the_timeout_is_cancelled_and_the_call_answers_busy(pg_url: str) -> None:
    """An authenticate waiting on a session row another transaction holds gives up after the timeout."""
    engine = make_engine(pg_url, statement_timeout=1)
    protocol = Protocol(engine, load_settings({"log_level": "WARNING"}, environ={}))
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        jobs.enqueue(conn, "acme", "customer_add", {"name": "Ann"})
    ticket = protocol.authenticate(company.username, company.token)[0]
    assert ticket
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "1s"
        assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "1s"
    blocker = make_engine(pg_url)
    with blocker.begin() as held:
        held.execute(select(QbwcSession.ticket).where(QbwcSession.ticket == ticket).with_for_update())
        started = time.monotonic()
        answer = protocol.authenticate(company.username, company.token)
        waited = time.monotonic() - started
    assert [a or "" for a in answer] == ["", "busy", "60"]
    assert 0.9 <= waited < 10
    assert protocol.authenticate(company.username, company.token)[0]  # the lock gone, it takes over
    blocker.dispose()
    engine.dispose()
