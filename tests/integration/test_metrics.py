"""``/metrics``: behind its token, it counts a real Web Connector session and reads the queue from the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from qbwc_service.accounts import companies
from qbwc_service.queue import jobs
from qbwc_service.simulator import QuickBooksEmulator
from qbwc_service.simulator.webconnector import Outcome, WebConnector
from tests.conftest import LiveServer, make_test_app
from tests.emulator.conftest import needs_spec
from tests.helpers import customer_add

TOKEN = "scrape-me-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: FlaskClient) -> Samples:
    """Every sample of ``/metrics``, by name and labels."""
    reply = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.content_type.startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(reply.get_data(as_text=True))
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value, 0 when absent (a counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metered(db_url: str) -> Iterator[Flask]:
    """The application with a metrics token."""
    app = make_test_app(db_url, metrics_token=TOKEN)
    yield app
    app.extensions["qbwc"].engine.dispose()


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(db_url: str, metered: Flask) -> None:
    """Without QBWC_METRICS_TOKEN /metrics is 404; with it, a missing or wrong bearer token is 401."""
    plain = make_test_app(db_url)
    try:
        assert plain.test_client().get("/metrics").status_code == 404
    finally:
        plain.extensions["qbwc"].engine.dispose()
    client = metered.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@needs_spec
def test_a_web_connector_session_shows_in_the_metrics(metered: Flask) -> None:
    """A simulated Web Connector session moves the call histograms, status codes, jobs, sessions and poll age."""
    engine = metered.extensions["qbwc"].engine
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Zoë")})
        # The same name again: QuickBooks answers 3100 (the name is taken) and the job fails.
        jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Zoë")})
        jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Bob")})
    client = metered.test_client()
    before = scrape(client)
    assert value(before, "qbwc_company_last_poll_age_seconds", company="acme") == 0.0  # never polled: absent
    with LiveServer(metered) as server:
        connector = WebConnector(
            server.url + "/qbwc", company.username, company.token, QuickBooksEmulator(), noop_delay=0.0
        )
        try:
            report = connector.run_session()
        finally:
            connector.close()
    assert report.outcome == Outcome.DONE, report.detail
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    for method in ("authenticate", "sendRequestXML", "receiveResponseXML", "closeConnection"):
        assert grew("qbwc_call_seconds_count", method=method) == report.calls.count(method) > 0, method
        assert grew("qbwc_call_seconds_bucket", method=method, le="+Inf") == report.calls.count(method)
        assert grew("qbwc_call_seconds_sum", method=method) > 0
    assert grew("qbwc_authenticate_total", answer="session") == 1
    assert grew("qbwc_quickbooks_status_total", code="0", severity="Info") == 2
    assert grew("qbwc_quickbooks_status_total", code="3100", severity="Error") == 1
    assert value(after, "qbwc_jobs", company="acme", state="done") == 2
    assert value(after, "qbwc_jobs", company="acme", state="failed") == 1
    assert value(after, "qbwc_jobs", company="acme", state="queued") == 0
    assert value(after, "qbwc_sessions", company="acme", state="closed") == 1
    assert value(after, "qbwc_sessions", company="acme", state="open") == 0
    assert 0 <= value(after, "qbwc_company_last_poll_age_seconds", company="acme") < 60
    assert ("qbwc_company_last_poll_age_seconds", frozenset({("company", "acme")})) in after
    assert value(after, "qbwc_company_poll_interval_seconds", company="acme") == 300
