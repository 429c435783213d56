"""What the fault tests share: a day of work for a few companies, a held worker, the end-state check."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobState
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.simulator import QuickBooksEmulator
from qbwc_service.simulator.run import Simulation, Summary


def day(engine: Engine, url: str, *, companies: int = 1, prefix: str = "fault", **kwargs: Any) -> Simulation:
    """A few companies, each with a small day of work (ensures, customers, invoices paid by payments, a query)."""
    sim = Simulation(engine, url, companies=companies, mix="day", customers=3, invoices=4, prefix=prefix, **kwargs)  # type: ignore[arg-type]
    sim.setup()
    return sim


def wait_held(path: Path, timeout: float = 60.0) -> int:
    """The pid a held worker wrote into ``path`` (see ``tests/faults/hold_conf.py``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text().strip()):
            return int(text)
        time.sleep(0.02)
    raise AssertionError(f"no worker reached {path.name}")


def assert_settled(engine: Engine, summary: Summary) -> None:
    """Every job done or failed with a reason, nothing applied twice, nothing entered twice."""
    assert summary.lost == [], summary.text()
    assert summary.twice == [], summary.text()
    assert summary.duplicates == [], summary.text()
    assert summary.wrong == [], summary.text()
    with engine.connect() as conn:
        rows = conn.execute(select(Job.id, Job.state, Job.error)).all()
    assert rows
    for job_id, state, error in rows:
        assert state in (JobState.DONE, JobState.FAILED), (job_id, state)
        assert state == JobState.DONE or error, (job_id, error)


def run_until_done(protocol: Protocol, company: NewCompany, quickbooks: QuickBooksEmulator, runs: int = 5) -> None:
    """Web Connector runs in-process (the protocol's methods, no HTTP) until authenticate says ``none``."""
    for _ in range(runs):
        ticket, status = protocol.authenticate(company.username, company.token)[:2]
        if status == "none":
            return
        quickbooks.open_session()
        while document := protocol.send_request_xml(ticket, quickbooks.hcp_response(), "", "US", 13, 0):
            if protocol.receive_response_xml(ticket, quickbooks.process_request(document), "", "") >= 100:
                break
        protocol.close_connection(ticket)
        quickbooks.close_session()
