"""The Web Connector simulator also works from the endpoint's own WSDL (no ../shared needed)."""

from __future__ import annotations

from sqlalchemy import select

from qbwc_service.accounts import companies
from qbwc_service.db.models import Job, JobState
from qbwc_service.queue import jobs
from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.simulator.webconnector import WebConnector
from tests.conftest import LiveServer, make_test_app


def test_simulator_runs_on_the_served_wsdl(sqlite_url: str) -> None:
    """Fed the service's ?wsdl (Spyne names its binding differently), the simulator still completes a run."""
    app = make_test_app(sqlite_url)
    engine = app.extensions["qbwc"].engine
    with engine.begin() as conn:
        company = companies.create_company(conn, "own-wsdl", "own-wsdl-qbwc")
        job_id = jobs.enqueue(conn, company.id, "customer_add", {"name": "Ada"}, actor="test").job_id
    qb = QuickBooksEmulator(CompanyFacts())
    with LiveServer(app) as server:
        url = server.url + "/qbwc"
        connector = WebConnector(url, company.username, company.token, qb, wsdl=url + "?wsdl")
        try:
            connector.run_session()
        finally:
            connector.close()
    with engine.connect() as conn:
        assert conn.execute(select(Job.state).where(Job.id == job_id)).scalar_one() == JobState.DONE
    assert [c["Name"] for c in qb.records("Customer")] == ["Ada"]
    engine.dispose()
