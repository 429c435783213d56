"""kill -9 of the gunicorn worker serving sendRequestXML or receiveResponseXML, on PostgreSQL.

The worker is held at the exact point (``tests/faults/hold_conf.py``): after the lease is
committed and before the answer goes out, or after QuickBooks' answer was settled and
before the commit. Then it is killed. The Web Connector sees its HTTP call fail, comes
back, and every job ends done, none applied twice in QuickBooks.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Job, JobState
from qbwc_service.simulator.service import ServedService
from qbwc_service.simulator.webconnector import Outcome, SessionReport, WebConnector
from tests.conftest import need_spec
from tests.faults.drive import assert_settled, day, wait_held

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.parametrize(
    ("point", "in_quickbooks"),
    [("send", False), ("receive", True)],
    ids=["sendRequestXML-after-lease", "receiveResponseXML-before-commit"],
)
def test_a_worker_killed_mid_call_loses_nothing_and_applies_nothing_twice(
    pg_url: str, tmp_path: Path, point: str, in_quickbooks: bool
) -> None:
    """The killed call's jobs come back (looked up first) and the day's work ends done, each once."""
    need_spec()
    engine = make_engine(pg_url)
    hold = {"FAULT_HOLD_DIR": str(tmp_path)}
    with ServedService(pg_url, workers=2, config="tests.faults.hold_conf", env=hold) as server:
        sim = day(engine, server.url)
        run = sim.runs[0]
        (tmp_path / f"arm-{point}").touch()
        connector = WebConnector(server.url, run.username, run.token, run.quickbooks, timeout=120)
        reports: list[SessionReport] = []
        session = threading.Thread(target=lambda: reports.append(connector.run_session()))
        session.start()
        pid = wait_held(tmp_path / f"held-{point}")
        assert pid in server.worker_pids()
        with engine.connect() as conn:
            in_flight = conn.execute(select(func.count()).where(Job.state == JobState.IN_FLIGHT)).scalar_one()
        assert in_flight > 0  # the lease was committed; a receive held before its commit changed nothing yet
        os.kill(pid, signal.SIGKILL)
        session.join(120)
        connector.close()
        (report,) = reports
        assert report.outcome == Outcome.TRANSPORT, report
        assert bool(run.quickbooks.applied()) == in_quickbooks
        server.wait_workers(2)
        run.reports.extend(reports)
        summary = sim.run(sessions=30)
    assert_settled(engine, summary)
    assert summary.jobs == {"done": len(run.jobs)}, summary.text()
    engine.dispose()
