"""Company connection pages: the list with health, creating, the one-time token, switches, roles."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select, update

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.accounts.credentials import verify_token
from qbwc_service.db.models import Company, Job, JobEvent, JobState, QbwcSession, SessionState, utcnow
from tests.conftest import make_test_app
from tests.integration.admin.factories import ADMIN, SUPPORT, failed_job, login, make_user, queue_job

NEW = {"name": "Beta Books", "username": "beta-qbwc", "company_file": r"C:\Books\beta.qbw", "poll_minutes": "10"}


def _token_on(page: str) -> str:
    found = re.search(r'<code id="token" class="token-value">([^<]+)</code>', page)
    assert found, "the page shows no token"
    return found.group(1)


def _authenticate(app: Flask, username: str, token: str) -> str:
    """What the SOAP authenticate answers as its status: a ticket's company file, nvu, none."""
    return str(app.extensions["qbwc_protocol"].authenticate(username, token)[1])


def test_list_shows_each_connection_with_its_facts(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """The list shows name, QBWC user, state, last poll, versions, company file and queue counts."""
    with engine.begin() as conn:
        conn.execute(
            update(Company).values(
                last_poll_at=utcnow() - timedelta(minutes=2), qbwc_version="2.3.0.215", qbxml_version="16.0",
                reported_company_file=r"C:\Books\acme.qbw",
            )
        )  # fmt: skip
    queue_job(engine, "Queued One")
    failed_job(engine)
    page = admin.get("/companies").get_data(as_text=True)
    for text in ("acme", "acme-qbwc", "2 minutes ago", "2.3.0.215", "16.0", r"C:\Books\acme.qbw", "failing"):
        assert text in page, text
    assert '/jobs?company=1&amp;state=queued">1</a>' in page
    assert '/jobs?company=1&amp;state=failed">1</a>' in page


def test_list_marks_never_connected_and_late_companies(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """A company that never polled is 'never connected'; one silent for over 3 intervals is 'late'."""
    assert "never connected" in admin.get("/companies").get_data(as_text=True)
    with engine.begin() as conn:
        conn.execute(update(Company).values(last_poll_at=utcnow() - timedelta(minutes=16), poll_minutes=5))
    page = admin.get("/companies").get_data(as_text=True)
    assert "health-late" in page and "late</span>" in page and "since" in page


def test_support_sees_the_list_without_the_create_button(support: FlaskClient, company: NewCompany) -> None:
    """Support staff read the list but are offered no new connection."""
    page = support.get("/companies").get_data(as_text=True)
    assert "acme" in page and "New connection" not in page


def test_empty_list_explains_what_to_do(admin: FlaskClient) -> None:
    """With no company the admin is told how to connect one."""
    assert "No company is connected yet" in admin.get("/companies").get_data(as_text=True)


def test_new_form_shows_configured_defaults(admin: FlaskClient) -> None:
    """The form is prefilled with the default poll interval and shows app name, URL and support page."""
    page = admin.get("/companies/new").get_data(as_text=True)
    assert 'name="poll_minutes" type="number" min="1" max="15" value="5"' in page
    assert "qbwc-service" in page and "http://localhost:8000/qbwc" in page and "http://localhost:8000/support" in page


def test_create_shows_the_token_once_and_it_authenticates(admin: FlaskClient, app: Flask, engine: Engine) -> None:
    """Creating a connection renders its token in the POST response only; QBWC can log in with it."""
    response = admin.post("/companies/new", data=NEW)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    token = _token_on(page)
    assert "Shown only now" in page and 'data-copy="token"' in page
    with engine.connect() as conn:
        row = conn.execute(select(Company).where(Company.name == "Beta Books")).one()
    assert row.token_hash != token and verify_token(row.token_hash, token)
    assert (row.username, row.company_file, row.poll_minutes) == ("beta-qbwc", r"C:\Books\beta.qbw", 10)
    assert _authenticate(app, "beta-qbwc", token) == "none"
    again = admin.get(f"/companies/{row.id}").get_data(as_text=True)
    assert token not in again and 'id="token"' not in again
    assert token not in admin.get("/companies").get_data(as_text=True)
    cookie = response.headers.get("Set-Cookie", "")
    assert token not in cookie


def test_create_rejects_bad_input_with_field_messages(admin: FlaskClient, engine: Engine) -> None:
    """Missing names and an out-of-range interval come back as sentences beside the fields, 400."""
    response = admin.post("/companies/new", data={"name": "", "username": "", "poll_minutes": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the connection a name" in page and "1 to 15 minutes" in page
    with engine.connect() as conn:
        assert conn.execute(select(Company)).first() is None


def test_create_refuses_a_duplicate_name(admin: FlaskClient, company: NewCompany) -> None:
    """A second connection named like the first is refused with 409 and no token."""
    response = admin.post("/companies/new", data={**NEW, "name": "acme"})
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True) and 'id="token"' not in response.get_data(as_text=True)


def test_create_refuses_a_name_the_service_cannot_use(admin: FlaskClient) -> None:
    """A name with a slash comes back with the rule as a sentence."""
    response = admin.post("/companies/new", data={**NEW, "name": "Acme/Books"})
    assert response.status_code == 400 and "without slashes" in response.get_data(as_text=True)


def test_company_names_are_escaped_on_every_page(admin: FlaskClient) -> None:
    """A name with markup is shown as text, never as HTML."""
    response = admin.post("/companies/new", data={**NEW, "name": "<img src=x onerror=alert(1)> & Co"})
    assert response.status_code == 200
    for page in (response.get_data(as_text=True), admin.get("/companies").get_data(as_text=True)):
        assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in page and "<img" not in page


def test_rotating_shows_a_new_token_and_the_old_fails_at_once(
    admin: FlaskClient, app: Flask, company: NewCompany, engine: Engine
) -> None:
    """A new token is shown once; the previous one is answered with nvu from then on."""
    queue_job(engine, "Someone")
    response = admin.post(f"/companies/{company.id}/token")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = _token_on(response.get_data(as_text=True))
    assert token != company.token
    assert _authenticate(app, company.username, company.token) == "nvu"
    assert _authenticate(app, company.username, token) == ""


def test_disable_and_enable_switch_qbwc_logins(
    admin: FlaskClient, app: Flask, company: NewCompany, engine: Engine
) -> None:
    """A disabled connection answers nvu even with the right token; enabling it lets QBWC in again."""
    response = admin.post(f"/companies/{company.id}/enabled", data={"enabled": "0"}, follow_redirects=True)
    assert "is disabled" in response.get_data(as_text=True) and "disabled</span>" in response.get_data(as_text=True)
    assert _authenticate(app, company.username, company.token) == "nvu"
    admin.post(f"/companies/{company.id}/enabled", data={"enabled": "1"})
    assert _authenticate(app, company.username, company.token) == "none"


def test_support_cannot_create_rotate_download_or_switch(
    support: FlaskClient, app: Flask, company: NewCompany, engine: Engine
) -> None:
    """Every admin-only page and action answers 403 to support staff and changes nothing."""
    with engine.connect() as conn:
        before = conn.execute(select(Company.token_hash, Company.enabled)).one()
    assert support.get("/companies/new").status_code == 403
    assert support.post("/companies/new", data=NEW).status_code == 403
    rotate = support.post(f"/companies/{company.id}/token")
    assert rotate.status_code == 403 and 'id="token"' not in rotate.get_data(as_text=True)
    assert support.get(f"/companies/{company.id}/qwc").status_code == 403
    assert support.post(f"/companies/{company.id}/enabled", data={"enabled": "0"}).status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(Company.token_hash, Company.enabled)).one() == before
        assert conn.execute(select(Company).where(Company.name == "Beta Books")).first() is None
    assert _authenticate(app, company.username, company.token) == "none"


def test_support_sees_company_detail_without_token_actions(support: FlaskClient, company: NewCompany) -> None:
    """The company page offers support no token, .qwc or enable/disable button."""
    page = support.get(f"/companies/{company.id}").get_data(as_text=True)
    assert "acme-qbwc" in page
    for admin_only in ("New token", "Download .qwc", "Disable"):
        assert admin_only not in page


def test_detail_shows_sessions_and_queue(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """The company page lists its sessions (times, counts, last error) and its newest jobs."""
    job_id = queue_job(engine, "Queued Customer")
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(QbwcSession).values(
                ticket="abcdef0123456789", company_id=company.id, state=SessionState.FAILED, started_at=now,
                last_seen_at=now, ended_at=now, sent=3, done=2, failed=1, retried=0, round_trips=1, hcp_seen=True,
                last_error="QuickBooks returned error 0x80040408: could not start QuickBooks",
            )
        )  # fmt: skip
    page = admin.get(f"/companies/{company.id}").get_data(as_text=True)
    assert "abcdef01…" in page and "abcdef0123456789" not in page
    assert "could not start QuickBooks" in page and "session-failed" in page
    assert f'href="/jobs/{job_id}"' in page and "Queued Customer" in page
    assert "the last Web Connector session failed" in page


def test_retry_all_failed_requeues_every_failed_job(support: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """Support can retry all failed jobs of a company; each history names the user."""
    ids = [failed_job(engine, "One"), failed_job(engine, "Two")]
    response = support.post(f"/companies/{company.id}/retry-failed", follow_redirects=True)
    assert "2 failed jobs of acme queued again" in response.get_data(as_text=True)
    with engine.connect() as conn:
        states = conn.execute(select(Job.state).where(Job.id.in_(ids))).scalars().all()
        actors = conn.execute(
            select(JobEvent.actor).where(JobEvent.job_id.in_(ids), JobEvent.message == "retried")
        ).scalars().all()  # fmt: skip
    assert states == [JobState.QUEUED, JobState.QUEUED] and actors == [SUPPORT, SUPPORT]


def test_missing_company_is_a_404_page(admin: FlaskClient) -> None:
    """An unknown company number shows a not-found page."""
    response = admin.get("/companies/999")
    assert response.status_code == 404 and "no company connection number 999" in response.get_data(as_text=True)


def test_public_url_warning_is_shown_when_not_https(sqlite_url: str) -> None:
    """With a remote http public URL the admin is warned that QBWC will refuse it."""
    app = make_test_app(sqlite_url, public_url="http://sync.example.com")
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app.extensions["qbwc"].engine, ADMIN, "admin")
    client = app.test_client()
    login(client, ADMIN)
    assert "QBWC1051" in client.get("/companies/new").get_data(as_text=True)
    assert "QBWC1051" in client.get("/companies").get_data(as_text=True)
    app.extensions["qbwc"].engine.dispose()


def test_no_warning_for_localhost(admin: FlaskClient) -> None:
    """The default localhost URL raises no warning."""
    assert "QBWC1051" not in admin.get("/companies/new").get_data(as_text=True)


def test_detail_warns_of_a_second_web_connector(
    admin: FlaskClient, app: Flask, engine: Engine, company: NewCompany
) -> None:
    """When a superseded session's ticket calls again, the company page says two Web Connectors poll it."""
    protocol = app.extensions["qbwc_protocol"]
    queue_job(engine, "Twice Ltd")
    old = protocol.authenticate(company.username, company.token)[0]
    protocol.send_request_xml(old, "", "", "US", 13, 0)
    page = admin.get(f"/companies/{_company_id(engine)}").get_data(as_text=True)
    assert "Two Web Connectors" not in page
    new = protocol.authenticate(company.username, company.token)[0]
    assert new and new != old
    assert protocol.receive_response_xml(old, "", "0x80040408", "late") == -1
    page = admin.get(f"/companies/{_company_id(engine)}").get_data(as_text=True)
    assert "Two Web Connectors are polling this company" in page
    assert f"session {old[:8]} called receiveResponseXML" in page
    assert "remove the application from the Web Connector" in page
    assert "Taken over" in page  # the superseded session in the sessions table


def _company_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(Company.id).where(Company.name == "acme")).scalar_one())
