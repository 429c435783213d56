"""Two Web Connectors polling one company (the same .qwc on two PCs), on PostgreSQL under gunicorn.

They share one QuickBooks company file and run side by side, each session after session.
The service must see the second one (docs/architecture.md, step 2: a refused
authenticate while the session keeps calling) and never let both work on the same job.
``QBWC_SUPERSEDE_AFTER`` is set as the docs advise for a company that may be polled twice:
without it, the first collision, before the second Web Connector is seen, may let a
lookup run while the other QuickBooks still applies its message.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from qbwc_service.accounts import companies
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Company, Job, JobState, QbwcSession, SessionState, utcnow
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator.service import ServedService
from qbwc_service.simulator.webconnector import Outcome, WebConnector
from tests.conftest import need_spec
from tests.faults.drive import assert_settled, day

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_two_web_connectors_on_one_company_do_each_job_once(pg_url: str) -> None:
    """Both poll until the work is done: every job done once, and the company page knows of the second one."""
    need_spec()
    engine = make_engine(pg_url)
    settings = {"QBWC_SUPERSEDE_AFTER": "30", "QBWC_BATCH_SIZE": "3", "QBWC_BUSY_RETRY_SECONDS": "1"}
    with ServedService(pg_url, workers=2, env=settings) as server:
        sim = day(engine, server.url, prefix="rival")
        run = sim.runs[0]

        def poll(connector: WebConnector) -> None:
            for _ in range(60):
                report = connector.run_session()
                run.reports.append(report)
                if report.outcome == Outcome.NONE and sim._all_final(run):
                    return
                connector.sleep(0.05)

        connectors = [WebConnector(server.url, run.username, run.token, run.quickbooks, timeout=60) for _ in range(2)]
        threads = [threading.Thread(target=poll, args=(c,)) for c in connectors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        for connector in connectors:
            connector.close()
        summary = sim.summary()
    assert_settled(engine, summary)
    assert summary.jobs == {"done": len(run.jobs)}, summary.text()
    assert summary.outcomes.get(Outcome.BUSY, 0) > 0, summary.text()  # they did collide
    with engine.connect() as conn:
        rival = conn.execute(select(Company.rival_seen_at, Company.rival_detail)).one()
    assert rival.rival_seen_at is not None and rival.rival_detail
    engine.dispose()


def test_a_lease_committed_on_a_session_superseded_meanwhile_is_put_back(pg_url: str) -> None:
    """The race the test above found: a second Web Connector's authenticate read the session before a
    concurrent sendRequestXML committed its leases, superseded it as holding nothing, and the leases then
    committed on the superseded session, where nothing ever released them: those jobs stayed in flight
    for good and every job after them waited. Now the next authenticate's sweep puts them back, marked
    to be looked up first."""
    engine = make_engine(pg_url)
    protocol = Protocol(engine, load_settings({"log_level": "WARNING", "supersede_after": 30}, environ={}))
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        for name in ("Ann", "Bob"):
            jobs.enqueue(conn, "acme", "customer_add", {"name": name})
    ticket = protocol.authenticate(company.username, company.token)[0]
    with engine.begin() as lease:
        # sendRequestXML's transaction, held open between its lease and its commit ...
        _session, found = jobs.session_candidates(lease, ticket, limit=50, now=utcnow())
        jobs.claim(lease, ticket, [(job, "<CustomerAddRq/>") for job in found], now=utcnow())
        # ... while the rival's authenticate sees nothing in flight and takes the session over.
        rival = threading.Thread(target=lambda: protocol.authenticate(company.username, company.token))
        rival.start()
        rival.join(30)
    with engine.connect() as conn:
        stranded = conn.execute(
            select(Job.state, QbwcSession.state).join(QbwcSession, QbwcSession.ticket == Job.ticket)
        ).all()
    assert stranded == [(JobState.IN_FLIGHT, SessionState.SUPERSEDED)] * 2
    protocol.authenticate(company.username, company.token)  # any company's authenticate sweeps
    with engine.connect() as conn:
        back = conn.execute(select(Job.state, Job.progress).order_by(Job.id)).all()
    assert [(state, (progress or {}).get("verify")) for state, progress in back] == [(JobState.QUEUED, True)] * 2
    engine.dispose()
