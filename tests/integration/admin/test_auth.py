"""Staff login, logout, the failed-login limit, cookies and which pages need a user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, insert, select, update

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Company, Job, JobEvent, LoginFailure, StaffUser, utcnow
from tests.conftest import make_test_app
from tests.integration.admin.factories import ADMIN, PASSWORD, SUPPORT, failed_job, login

STAFF_PAGES = [
    "/dashboard", "/dashboard/live", "/jobs", "/jobs/1", "/companies", "/companies/1", "/companies/new",
    "/companies/1/qwc", "/sessions", "/incidents", "/incidents/1",
]  # fmt: skip
STAFF_ACTIONS = [
    "/jobs/1/retry", "/jobs/1/cancel", "/jobs/1/priority", "/companies/new", "/companies/1/token",
    "/companies/1/enabled", "/companies/1/retry-failed",
]  # fmt: skip


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_send_anonymous_visitors_to_login(client: FlaskClient, company: NewCompany, path: str) -> None:
    """Every staff page redirects a visitor without a session to the login page, remembering the page."""
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == f"/login?next={path}"


@pytest.mark.parametrize("path", STAFF_ACTIONS)
def test_staff_actions_refuse_anonymous_posts(
    client: FlaskClient, engine: Engine, company: NewCompany, path: str
) -> None:
    """Every state-changing POST redirects an anonymous visitor to login and changes nothing."""
    assert failed_job(engine) == 1
    before = _snapshot(engine)
    response = client.post(path, data={"priority": "5", "enabled": "0", "name": "x", "username": "y"})
    assert response.status_code == 302 and response.location.startswith("/login")
    assert _snapshot(engine) == before


def _snapshot(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as conn:
        company = conn.execute(select(Company.token_hash, Company.enabled)).all()
        job = conn.execute(select(Job.state, Job.priority)).all()
        count = conn.execute(select(func.count()).select_from(JobEvent)).scalar()
    return (company, job, count)


def test_public_pages_need_no_login(client: FlaskClient) -> None:
    """/support, /healthz and /login answer without a session; /healthz tells nothing but its status."""
    support = client.get("/support")
    assert support.status_code == 200 and b"Web Connector" in support.data
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json() == {"status": "ok"}
    assert client.get("/login").status_code == 200


def test_home_leads_to_the_dashboard(admin: FlaskClient) -> None:
    """The front page sends a signed-in user to the dashboard."""
    assert admin.get("/").location == "/dashboard"


def test_login_with_the_right_password_opens_the_requested_page(client: FlaskClient, engine: Engine) -> None:
    """A correct login redirects to ``next`` and records the login time."""
    response = client.post("/login", data={"email": "ADA@example.com ", "password": PASSWORD, "next": "/sessions"})
    assert response.status_code == 302 and response.location == "/sessions"
    assert client.get("/sessions").status_code == 200
    with engine.connect() as conn:
        assert conn.execute(select(StaffUser.last_login_at).where(StaffUser.email == ADMIN)).scalar() is not None


def test_login_refuses_a_foreign_next_address(client: FlaskClient) -> None:
    """A ``next`` pointing at another site is ignored (no open redirect)."""
    response = client.post("/login", data={"email": ADMIN, "password": PASSWORD, "next": "//evil.example/x"})
    assert response.location == "/dashboard"


def test_wrong_password_is_refused_and_counted(client: FlaskClient, engine: Engine) -> None:
    """A wrong password answers 401 with a sentence, keeps the user out and stores one failure."""
    response = login(client, ADMIN, "wrong password!")
    assert response.status_code == 401
    assert b"do not match an active staff account" in response.data
    assert client.get("/jobs").status_code == 302
    with engine.connect() as conn:
        rows = conn.execute(select(LoginFailure.email, LoginFailure.ip)).all()
    assert [tuple(r) for r in rows] == [(ADMIN, "127.0.0.1")]


@pytest.mark.parametrize(("hops", "counted_ip"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_failures_count_the_client_address_behind_trusted_proxies(
    db_url: str, engine: Engine, staff: None, hops: int, counted_ip: str
) -> None:
    """X-Forwarded-For is believed only with QBWC_PROXY_HOPS set, and then only the proxy's own entry."""
    from tests.conftest import make_test_app

    app = make_test_app(db_url, proxy_hops=hops)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        with app.test_client() as client:
            forged_then_real = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
            response = client.post(
                "/login", data={"email": ADMIN, "password": "wrong password!"}, headers=forged_then_real
            )
            assert response.status_code == 401
    finally:
        app.extensions["qbwc"].engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(select(LoginFailure.ip)).scalars().all() == [counted_ip]


def test_unknown_user_is_refused_like_a_wrong_password(client: FlaskClient) -> None:
    """An unknown e-mail gets the same answer as a wrong password."""
    response = login(client, "nobody@example.com")
    assert response.status_code == 401 and b"do not match" in response.data


def test_five_failures_block_the_email_from_that_address(client: FlaskClient, app: Flask) -> None:
    """After five failures even the right password is refused with 429 and Retry-After."""
    for _ in range(5):
        assert login(client, ADMIN, "guess").status_code == 401
    blocked = login(client, ADMIN)
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 900
    assert b"Too many failed logins" in blocked.data
    assert client.get("/jobs").status_code == 302
    other = app.test_client()
    assert other.post(
        "/login", data={"email": ADMIN, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    ).status_code == 302  # fmt: skip
    assert login(client, SUPPORT).status_code == 302


def test_the_limit_is_shared_by_every_worker_through_the_database(db_url: str, staff: None) -> None:
    """Failures counted by one application instance block logins on another (as gunicorn workers would)."""
    first, second = make_test_app(db_url), make_test_app(db_url)
    for app in (first, second):
        app.config["WTF_CSRF_ENABLED"] = False
    try:
        for n in range(5):
            worker = first if n % 2 else second
            assert login(worker.test_client(), ADMIN, "guess").status_code == 401
        assert login(first.test_client(), ADMIN).status_code == 429
        assert login(second.test_client(), ADMIN).status_code == 429
    finally:
        first.extensions["qbwc"].engine.dispose()
        second.extensions["qbwc"].engine.dispose()


def test_failures_older_than_the_window_no_longer_count(client: FlaskClient, engine: Engine) -> None:
    """Five failures from 16 minutes ago do not block a login."""
    old = utcnow() - timedelta(minutes=16)
    with engine.begin() as conn:
        conn.execute(insert(LoginFailure), [{"email": ADMIN, "ip": "127.0.0.1", "at": old}] * 5)
    assert login(client, ADMIN).status_code == 302


def test_a_successful_login_clears_the_failures(client: FlaskClient, engine: Engine) -> None:
    """Four failures then a success leave no failures behind for that e-mail and address."""
    for _ in range(4):
        login(client, ADMIN, "guess")
    assert login(client, ADMIN).status_code == 302
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(LoginFailure)).scalar() == 0


def test_logout_is_a_post_that_ends_the_session(admin: FlaskClient) -> None:
    """GET /logout is not allowed; POST /logout signs out."""
    assert admin.get("/logout").status_code == 405
    assert admin.post("/logout").location == "/login"
    assert admin.get("/jobs").status_code == 302


def test_a_deactivated_user_is_signed_out(admin: FlaskClient, engine: Engine) -> None:
    """Marking a user inactive ends their existing session on the next request."""
    with engine.begin() as conn:
        conn.execute(update(StaffUser).where(StaffUser.email == ADMIN).values(active=False))
    assert admin.get("/jobs").status_code == 302
    assert login(admin, ADMIN).status_code == 401


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    """The session cookie cannot be read by scripts and is not sent cross-site; not Secure over http."""
    response = login(client, ADMIN)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_behind_https(sqlite_url: str) -> None:
    """With an https public URL the session cookie is marked Secure."""
    app = make_test_app(sqlite_url, public_url="https://sync.example.com")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["qbwc"].engine.dispose()


def test_pages_carry_security_headers(admin: FlaskClient) -> None:
    """HTML pages forbid framing and foreign scripts, and signed-in pages are not cached."""
    response = admin.get("/jobs")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_page_shows_who_is_signed_in(support: FlaskClient) -> None:
    """The top bar names the user and their role."""
    page = support.get("/jobs").get_data(as_text=True)
    assert SUPPORT in page and ">support<" in page
