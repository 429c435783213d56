"""PostgreSQL restarted mid-session: clean QBWC answers meanwhile, and the service recovers by itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from zeep.exceptions import Fault

from qbwc_service.db import migrate, outages
from qbwc_service.db.engine import make_engine
from qbwc_service.simulator.service import ServedService
from tests.conftest import need_spec
from tests.faults.drive import assert_settled, day
from tests.faults.throwaway_pg import ThrowawayPostgres, why_not
from tests.helpers import qbwc

pytestmark = [pytest.mark.slow]


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server this test may stop and start, migrated."""
    reason = why_not()
    if reason:
        pytest.skip(reason)
    server = ThrowawayPostgres()
    try:
        server.start()
        engine = make_engine(server.url)
        migrate.upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.close()


def test_a_restarted_database_gets_clean_answers_and_the_service_recovers(own_postgres: ThrowawayPostgres) -> None:
    """While the database is down every call answers by the contract; once it is back, the work ends done, once."""
    need_spec()
    engine = make_engine(own_postgres.url)
    with ServedService(own_postgres.url, workers=2) as server:
        sim = day(engine, server.url)
        run = sim.runs[0]
        svc = qbwc(server.url)
        ticket, _ = svc.authenticate(run.username, run.token)
        run.quickbooks.open_session()
        facts = run.quickbooks.facts
        request = svc.sendRequestXML(ticket, run.quickbooks.hcp_response(), facts.company_file, "US", 13, 0)
        assert request
        response = run.quickbooks.process_request(request)
        engine.dispose()
        own_postgres.stop()
        try:
            # The calls QBWC makes meanwhile: each answers as the contract says, no SOAP fault.
            assert svc.receiveResponseXML(ticket, response, "", "") == -1
            error = svc.getLastError(ticket)
            assert error == outages.UNAVAILABLE.format(reason="its server cannot be reached")
            assert svc.closeConnection(ticket) == error
            assert [v or "" for v in svc.authenticate(run.username, run.token)] == ["", "busy", "60"]
            assert not svc.sendRequestXML(ticket, "", "", "US", 13, 0)
            assert svc.connectionError(ticket, "0x80040408", "Could not start QuickBooks.") == "done"
        except Fault as fault:
            pytest.fail(f"a SOAP fault while the database was down: {fault.message}")
        finally:
            run.quickbooks.close_session()
            own_postgres.start()
        # The same workers, not restarted: the pool's pre-ping replaces the dead connections.
        pids = server.worker_pids()
        summary = sim.run(sessions=30)
        assert server.worker_pids() == pids
    assert_settled(engine, summary)
    assert summary.jobs == {"done": len(run.jobs)}, summary.text()
    engine.dispose()
