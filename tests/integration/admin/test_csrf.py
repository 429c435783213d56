"""CSRF protection: every admin form needs the token of the session; the JSON API is exempt."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobState
from tests.integration.admin.factories import ADMIN, PASSWORD, failed_job


@pytest.fixture
def guarded(app: Flask, staff: None) -> Iterator[FlaskClient]:
    """A test client on an application with CSRF checks on (the default)."""
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    with app.test_client() as client:
        yield client


def _token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1).decode()


def _login(client: FlaskClient) -> None:
    token = _token(client.get("/login").data)
    assert client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token}).status_code == 302


def test_login_without_the_token_is_refused(guarded: FlaskClient) -> None:
    """A login form posted without its CSRF token answers 400 and signs nobody in."""
    response = guarded.post("/login", data={"email": ADMIN, "password": PASSWORD})
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    assert guarded.get("/jobs").status_code == 302


def test_job_action_without_the_token_changes_nothing(
    guarded: FlaskClient, engine: Engine, company: NewCompany
) -> None:
    """A retry posted by a signed-in user without the token (a forged request) is refused."""
    job_id = failed_job(engine)
    _login(guarded)
    assert guarded.post(f"/jobs/{job_id}/retry").status_code == 400
    assert guarded.post(f"/jobs/{job_id}/retry", data={"csrf_token": "forged"}).status_code == 400
    with engine.connect() as conn:
        assert conn.execute(select(Job.state).where(Job.id == job_id)).scalar() == JobState.FAILED


def test_job_action_with_the_pages_token_works(guarded: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """The token embedded in the job page lets the same session retry the job."""
    job_id = failed_job(engine)
    _login(guarded)
    token = _token(guarded.get(f"/jobs/{job_id}").data)
    assert guarded.post(f"/jobs/{job_id}/retry", data={"csrf_token": token}).status_code == 302
    with engine.connect() as conn:
        assert conn.execute(select(Job.state).where(Job.id == job_id)).scalar() == JobState.QUEUED


def test_token_rotation_without_the_token_is_refused(guarded: FlaskClient, company: NewCompany) -> None:
    """Rotating a token is refused without the CSRF token, and no token is shown."""
    _login(guarded)
    response = guarded.post(f"/companies/{company.id}/token")
    assert response.status_code == 400 and 'id="token"' not in response.get_data(as_text=True)


def test_json_api_is_exempt(guarded: FlaskClient, company: NewCompany) -> None:
    """The JSON API answers its own 401 (no API key), not a CSRF refusal."""
    response = guarded.post("/api/v1/companies/acme/jobs", json={"kind": "qbxml", "payload": {}})
    assert response.status_code == 401 and "API key" in response.get_json()["error"]
