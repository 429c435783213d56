"""The JSON API: API-key authentication, enqueue with validation and idempotency, job lookup."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from qbwc_service.accounts.api_keys import create_api_key
from qbwc_service.accounts.companies import NewCompany
from tests.helpers import customer_add


@pytest.fixture
def api_key(engine: Engine) -> str:
    """A JSON API key named ``shop``."""
    with engine.begin() as conn:
        return create_api_key(conn, "shop").key


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_requests_without_a_valid_key_are_refused(client: FlaskClient, company: NewCompany, api_key: str) -> None:
    """No key, a wrong key and a key of the wrong shape all get 401 with a JSON error."""
    body = {"kind": "qbxml", "payload": {"request": customer_add("A")}}
    assert client.post("/api/v1/companies/acme/jobs", json=body).status_code == 401
    wrong = client.post(
        "/api/v1/companies/acme/jobs", json=body, headers={"Authorization": "Bearer " + api_key[:-2] + "xx"}
    )
    assert wrong.status_code == 401 and wrong.json == {"error": "the API key is not valid"}
    assert client.get("/api/v1/jobs/1", headers={"X-API-Key": "nope"}).status_code == 401


def test_enqueue_is_idempotent_and_job_is_readable(client: FlaskClient, company: NewCompany, api_key: str) -> None:
    """A job posted twice with one idempotency key is queued once; GET returns its state."""
    auth = {"Authorization": f"Bearer {api_key}"}
    body = {"kind": "qbxml", "payload": {"request": customer_add("Ann")}, "idempotency_key": "cust-42"}
    first = client.post("/api/v1/companies/acme/jobs", json=body, headers=auth)
    again = client.post("/api/v1/companies/acme/jobs", json=body, headers=auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"] and first.json["state"] == "queued"
    assert first.json["reference"] == "Ann" and first.json["company"] == "acme"
    shown = client.get(f"/api/v1/jobs/{first.json['id']}", headers={"X-API-Key": api_key})
    assert shown.status_code == 200 and shown.json["kind"] == "qbxml"
    assert client.get("/api/v1/jobs/999999", headers=auth).status_code == 404


def test_invalid_payloads_are_refused_with_field_errors(client: FlaskClient, company: NewCompany, api_key: str) -> None:
    """Bad kinds, payloads and companies get 4xx answers naming the problem, and queue nothing."""
    auth = {"Authorization": f"Bearer {api_key}"}
    unknown = client.post("/api/v1/companies/acme/jobs", json={"kind": "teleport", "payload": {}}, headers=auth)
    assert unknown.status_code == 422 and "unknown job kind" in unknown.json["errors"][0]
    not_rq = client.post(
        "/api/v1/companies/acme/jobs", json={"kind": "qbxml", "payload": {"request": "<QBXML/>"}}, headers=auth
    )
    assert not_rq.status_code == 422 and not_rq.json["errors"][0].startswith("request:")
    hostile = '<!DOCTYPE x [<!ENTITY a "b">]><CustomerAddRq/>'
    assert (
        client.post(
            "/api/v1/companies/acme/jobs", json={"kind": "qbxml", "payload": {"request": hostile}}, headers=auth
        ).status_code
        == 422
    )
    assert (
        client.post("/api/v1/companies/nowhere/jobs", json={"kind": "qbxml", "payload": {}}, headers=auth).status_code
        == 404
    )
    assert client.post("/api/v1/companies/acme/jobs", data="not json", headers=auth).status_code == 400
    assert client.get("/api/v1/jobs/1", headers=auth).status_code == 404


def test_healthz_answers_without_details(client: FlaskClient) -> None:
    """/healthz says ok when the database answers, without authentication."""
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.json == {"status": "ok"}
