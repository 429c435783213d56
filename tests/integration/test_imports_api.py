"""The imports' JSON API through the emulator: start an import, follow it, page and filter its records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from qbwc_service.accounts.api_keys import create_api_key
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import load_settings
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.simulator import CompanyFacts, Edition, QuickBooksEmulator
from tests.emulator.conftest import FakeClock, needs_spec
from tests.emulator.driver import Session

pytestmark = needs_spec


@pytest.fixture
def auth(engine: Engine) -> dict[str, str]:
    """The header of a JSON API key."""
    with engine.begin() as conn:
        return {"Authorization": f"Bearer {create_api_key(conn, 'shop').key}"}


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def imported(engine: Engine, client: FlaskClient, company: NewCompany, auth: dict[str, str]) -> FakeClock:
    """Seven customers imported through the API and one Web Connector run (Customer 3 inactive, 5 and 6 later)."""
    clock = FakeClock()
    qb = QuickBooksEmulator(CompanyFacts(edition=Edition.ENTERPRISE), clock=clock)
    qb.bulk_add("Customer", ({"Name": f"Customer {n}", "Email": f"c{n}@example.com"} for n in range(5)))
    qb.modify("Customer", "Customer 3", IsActive="false")
    clock.advance(days=1)
    qb.bulk_add("Customer", [{"Name": "Customer 5"}, {"Name": "Garage 6"}])
    started = client.post("/api/v1/companies/acme/imports", json={"list": "customers"}, headers=auth)
    assert started.status_code == 201 and started.json["state"] == "queued" and started.json["full"]
    again = client.post("/api/v1/companies/acme/imports", json={"list": "customers"}, headers=auth)
    assert again.status_code == 200 and again.json["job_id"] == started.json["job_id"]
    protocol = Protocol(engine, load_settings({"log_level": "WARNING", "iterator_page": 3}, environ={}))
    Session(protocol, company, qb).run()
    return clock


def get(client: FlaskClient, auth: dict[str, str], query: str = "") -> Any:
    response = client.get(f"/api/v1/companies/acme/records/customers{query}", headers=auth)
    assert response.status_code == 200, response.json
    return response.json


def test_records_page_by_keyset_with_after(client: FlaskClient, auth: dict[str, str], imported: FakeClock) -> None:
    """limit and after walk the records in import order, each once, and the last page has no next cursor."""
    seen: list[str] = []
    after = ""
    for _ in range(5):
        page = get(client, auth, f"?limit=3{after}")
        seen += [r["full_name"] for r in page["records"]]
        if page["next_after"] is None:
            break
        after = f"&after={page['next_after']}"
    assert seen == ["Customer 0", "Customer 1", "Customer 2", "Customer 3", "Customer 4", "Customer 5", "Garage 6"]
    first = get(client, auth, "?limit=1")["records"][0]
    assert first["list_id"] and first["edit_sequence"] and first["type"] == "Customer"
    assert first["fields"] == {"email": "c0@example.com", "balance": "0.00"}
    assert first["data"]["Email"] == "c0@example.com"
    assert first["seen_in_last_full_import"] is True


def test_records_filter_by_name_modified_date_and_active(
    client: FlaskClient, auth: dict[str, str], imported: FakeClock
) -> None:
    """q matches names in any case, modified_since keeps later changes, active splits active from inactive."""
    assert [r["full_name"] for r in get(client, auth, "?q=GARAGE")["records"]] == ["Garage 6"]
    since = (imported.now - timedelta(hours=1)).isoformat()
    later = get(client, auth, f"?modified_since={since.replace('+', '%2B')}")["records"]
    assert [r["full_name"] for r in later] == ["Customer 5", "Garage 6"]
    assert [r["full_name"] for r in get(client, auth, "?active=false")["records"]] == ["Customer 3"]
    assert len(get(client, auth, "?active=true&q=customer")["records"]) == 5


def test_bad_record_queries_are_refused(client: FlaskClient, auth: dict[str, str], imported: FakeClock) -> None:
    """Bad filters get 400, an unknown list or company 404, each with a sentence."""
    for query in ("?active=maybe", "?modified_since=yesterday", "?after=x", "?limit=0"):
        response = client.get(f"/api/v1/companies/acme/records/customers{query}", headers=auth)
        assert response.status_code == 400 and response.json["error"], query
    assert client.get("/api/v1/companies/acme/records/spaceships", headers=auth).status_code == 404
    assert client.get("/api/v1/companies/nobody/records/customers", headers=auth).status_code == 404
    bad = client.post("/api/v1/companies/acme/imports", json={"list": "customers", "full": "yes"}, headers=auth)
    assert bad.status_code == 400


def test_the_import_status_shows_what_was_done(client: FlaskClient, auth: dict[str, str], imported: FakeClock) -> None:
    """The company's imports list each list's latest import: pages, rows, records held, done."""
    body = client.get("/api/v1/companies/acme/imports", headers=auth).json
    customers = next(i for i in body["imports"] if i["list"] == "customers")
    assert customers["state"] == "done" and customers["rows"] == 7 and customers["records"] == 7
    assert customers["pages"] == 3 and customers["share"] == 1.0 and customers["eta_seconds"] == 0.0
    vendors = next(i for i in body["imports"] if i["list"] == "vendors")
    assert vendors["job_id"] is None and vendors["records"] == 0
    assert body["list_sizes"]["edition"] is None or body["list_sizes"]["limited"] in (True, False)
