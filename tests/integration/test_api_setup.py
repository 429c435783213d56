"""The JSON API of company setup: the profile (versions, refusals), setup runs and their steps, reset."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from qbwc_service.accounts.api_keys import create_api_key
from qbwc_service.accounts.companies import NewCompany


@pytest.fixture
def auth(engine: Engine) -> dict[str, str]:
    """The headers of a JSON API key named ``shop``."""
    with engine.begin() as conn:
        return {"Authorization": f"Bearer {create_api_key(conn, 'shop').key}"}


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_profile_round_trip_with_versions_and_refusals(
    client: FlaskClient, company: NewCompany, auth: dict[str, str]
) -> None:
    """GET gives the default, PUT saves a version named after the key, a bad one is 422 with each problem."""
    assert client.get("/api/v1/companies/acme/profile").status_code == 401
    shown = client.get("/api/v1/companies/acme/profile", headers=auth)
    assert shown.status_code == 200 and shown.json["version"] is None
    body = shown.json["profile"]
    body["item_prefix"] = "Shop "
    body["line_kinds"]["labor"]["name"] = "Labour"
    saved = client.put("/api/v1/companies/acme/profile", json=body, headers=auth)
    assert saved.status_code == 201 and saved.json["version"] == 1
    assert client.put("/api/v1/companies/acme/profile", json=body, headers=auth).status_code == 200
    history = client.get("/api/v1/companies/acme/profile", headers=auth).json["history"]
    assert [(h["version"], h["created_by"]) for h in history] == [(1, "api:shop")]
    bad = client.put("/api/v1/companies/acme/profile", json={**body, "country": "UK"}, headers=auth)
    assert bad.status_code == 422
    assert any(
        e.startswith("sales_tax.item: QuickBooks UK editions have no sales tax items") for e in bad.json["errors"]
    )
    assert client.put("/api/v1/companies/nope/profile", json=body, headers=auth).status_code == 404
    assert client.get("/api/v1/profile-schema", headers=auth).json["type"] == "object"


def test_setup_run_steps_and_reset(client: FlaskClient, company: NewCompany, auth: dict[str, str]) -> None:
    """POST queues a run (409 while it waits), GET lists its steps, reset needs a reason and sets the run aside."""
    assert client.get("/api/v1/companies/acme/setup", headers=auth).json["run"] is None
    started = client.post("/api/v1/companies/acme/setup", headers=auth)
    assert started.status_code == 201
    steps = started.json["steps"]
    assert steps[0]["entry"] == "preferences" and all(s["state"] == "waiting" for s in steps)
    assert client.post("/api/v1/companies/acme/setup", headers=auth).status_code == 409
    assert client.post("/api/v1/companies/acme/reset", json={}, headers=auth).status_code == 422
    done = client.post("/api/v1/companies/acme/reset", json={"reason": "new company file"}, headers=auth)
    assert done.status_code == 200 and done.json["cancelled"] == len(steps)
    shown = client.get("/api/v1/companies/acme/setup", headers=auth).json
    assert shown["setup_required"] and shown["run"] is None and shown["last_reset"]["actor"] == "api:shop"
