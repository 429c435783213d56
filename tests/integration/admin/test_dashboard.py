"""The dashboard and the incident pages: counts by state per company, the per-hour chart, the banner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import Engine, event, update

from qbwc_service.accounts import companies
from qbwc_service.alerts.sweep import sweep
from qbwc_service.config import load_settings
from qbwc_service.db.models import Company, JobEvent, utcnow
from qbwc_service.web.admin.dashboard import chart, per_hour
from tests.integration.admin.factories import done_job, failed_job, queue_job


def _cells(page: str, company: str) -> dict[str, str]:
    """The job counts of ``company``'s line, by state."""
    tree = html.fromstring(page)
    row = tree.cssselect(f'tr[data-company="{company}"]')[0]
    return {td.get("data-state"): td.text_content().strip() for td in row.cssselect("td[data-state]")}


def _totals(page: str) -> dict[str, str]:
    tree = html.fromstring(page)
    return {span.get("data-state"): span.text_content().strip() for span in tree.cssselect(".tile-count[data-state]")}


@pytest.fixture
def seeded(engine: Engine) -> None:
    """acme with 2 queued, 1 failed and 1 done job; beta with 1 queued job and never a poll."""
    with engine.begin() as conn:
        companies.create_company(conn, "acme", "acme-qbwc")
        companies.create_company(conn, "beta", "beta-qbwc")
        conn.execute(update(Company).where(Company.name == "acme").values(last_poll_at=utcnow()))
    queue_job(engine, "Contoso")
    queue_job(engine, "Fabrikam")
    failed_job(engine, "Bob's Garage")
    done_job(engine, "Zoë & Co")
    queue_job(engine, "Beta customer", company="beta")


def test_dashboard_counts_jobs_by_state_per_company(admin: FlaskClient, seeded: None) -> None:
    """Each company's line and the totals count its jobs by state; the oldest queued job is named."""
    page = admin.get("/dashboard").get_data(as_text=True)
    assert _cells(page, "acme") == {"queued": "2", "in_flight": "0", "done": "1", "failed": "1", "cancelled": "0"}
    assert _cells(page, "beta")["queued"] == "1"
    assert _totals(page) == {"queued": "3", "in_flight": "0", "done": "1", "failed": "1", "cancelled": "0"}
    tree = html.fromstring(page)
    assert "job 1 of acme" in tree.cssselect(".tile-oldest")[0].text_content()
    health = {
        tr.get("data-company"): tr.cssselect(".badge")[0].text_content() for tr in tree.cssselect("tr[data-company]")
    }
    assert health == {"acme": "failing", "beta": "never connected"}
    # The live part asks htmx to refresh it in place, and the page loads htmx from our own origin.
    live = tree.get_element_by_id("live")
    assert live.get("hx-get") == "/dashboard/live" and live.get("hx-trigger") == "every 5s"
    assert tree.cssselect('script[src="/static/vendor/htmx/htmx.min.js"]')


def test_the_live_part_alone_shows_a_change_of_state(admin: FlaskClient, seeded: None, engine: Engine) -> None:
    """/dashboard/live is the live part only, and a job queued meanwhile shows in the next one."""
    before = admin.get("/dashboard/live").get_data(as_text=True)
    assert before.lstrip().startswith('<div id="live"') and "<html" not in before
    queue_job(engine, "Wingtip")
    after = admin.get("/dashboard/live").get_data(as_text=True)
    assert (_cells(before, "acme")["queued"], _cells(after, "acme")["queued"]) == ("2", "3")


def test_a_live_refresh_after_sign_out_sends_the_browser_to_login(client: FlaskClient) -> None:
    """An htmx request without a session gets 401 and HX-Redirect to the login page, not a login page to swap in."""
    response = client.get("/dashboard/live", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


def test_the_dashboard_costs_the_same_queries_for_3_or_30_companies(admin: FlaskClient, engine: Engine) -> None:
    """The statements run for the dashboard do not grow with the number of companies."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def load() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert admin.get("/dashboard").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    with engine.begin() as conn:
        for i in range(3):
            companies.create_company(conn, f"co{i:02}", f"co{i:02}-qbwc")
    for i in range(3):
        queue_job(engine, "x", company=f"co{i:02}")
    few = load()
    with engine.begin() as conn:
        for i in range(3, 30):
            companies.create_company(conn, f"co{i:02}", f"co{i:02}-qbwc")
    for i in range(3, 30):
        queue_job(engine, "x", company=f"co{i:02}")
    assert load() == few


def test_per_hour_counts_finished_jobs_in_their_hour_for_seven_days(engine: Engine, seeded: None) -> None:
    """Done and failed events fall in their UTC hour; events older than the 168 hours shown do not count."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(update(JobEvent).where(JobEvent.to_state == "done").values(at=now - timedelta(hours=50)))
    old = failed_job(engine, "Old failure")
    with engine.begin() as conn:
        conn.execute(
            update(JobEvent)
            .where(JobEvent.job_id == old, JobEvent.to_state == "failed")
            .values(at=now - timedelta(days=8))
        )
        series = per_hour(conn, now)
    assert len(series) == 168 and series[-1].start == now.replace(minute=0, second=0, microsecond=0)
    assert [(h.done, h.failed) for h in series if h.done or h.failed] == [(1, 0), (0, 1)]
    assert series[-51].done == 1 and series[-1].failed == 1
    drawn = chart(series)
    assert (drawn.total_done, drawn.total_failed, drawn.top) == (1, 1, 1)
    assert len(drawn.days) == 7 or len(drawn.days) == 6


def test_an_open_incident_shows_as_a_banner_and_in_the_incident_pages(
    admin: FlaskClient, seeded: None, engine: Engine
) -> None:
    """After a sweep opens an incident, every page carries the banner and /incidents lists it with its history."""
    url = str(engine.url.render_as_string(hide_password=False))
    report = sweep(engine, load_settings({"database_url": url, "alert_failed_jobs": 1}, environ={}))
    assert report is not None and len(report.changes) == 1
    for path in ("/dashboard", "/jobs", "/companies", "/incidents"):
        tree = html.fromstring(admin.get(path).get_data(as_text=True))
        banner = tree.cssselect(".incident-banner")[0].text_content()
        assert "1 open incident" in banner and "acme has 1 job failed (the alert threshold is 1)" in banner
    listing = html.fromstring(admin.get("/incidents").get_data(as_text=True))
    assert [td.text_content() for td in listing.cssselect("table.incidents td:nth-child(2)")] == ["acme"]
    detail = admin.get("/incidents/1").get_data(as_text=True)
    assert "Opened: acme has 1 job failed" in detail
    assert admin.get("/incidents/99").status_code == 404
