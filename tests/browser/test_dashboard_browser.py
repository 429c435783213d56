"""The dashboard in a real browser: counts change without a reload, under the pages' CSP; docs screenshots."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, update

from qbwc_service.accounts import companies
from qbwc_service.alerts.sweep import sweep
from qbwc_service.config import load_settings
from qbwc_service.db.models import Company, JobEvent, utcnow
from qbwc_service.queue import jobs
from tests.browser.test_admin_browser import UPDATE_SCREENSHOTS
from tests.conftest import ROOT, LiveServer, make_test_app
from tests.integration.admin.factories import ADMIN, PASSWORD, done_job, failed_job, make_user, queue_job

pytestmark = pytest.mark.browser


@pytest.fixture
def server(sqlite_url: str) -> Iterator[tuple[LiveServer, Engine, str]]:
    """The application over HTTP with the dashboard refreshing every second, and an admin."""
    app = make_test_app(sqlite_url, dashboard_refresh_seconds=1)
    engine: Engine = app.extensions["qbwc"].engine
    make_user(engine, ADMIN, "admin")
    with LiveServer(app) as live:
        yield live, engine, sqlite_url
    engine.dispose()


def _seed(engine: Engine, url: str) -> None:
    """Three companies in different health, a week of finished jobs for the chart, and an open incident."""
    now = utcnow()
    with engine.begin() as conn:
        for name, user in (("acme", "acme-qbwc"), ("Beta Books", "beta-qbwc"), ("Northwind", "northwind-qbwc")):
            companies.create_company(conn, name, user)
        conn.execute(update(Company).where(Company.name == "acme").values(last_poll_at=now - timedelta(minutes=2)))
        conn.execute(update(Company).where(Company.name == "Beta Books").values(last_poll_at=now - timedelta(hours=2)))
    queue_job(engine, "Contoso Ltd")
    queue_job(engine, "Fabrikam", company="Beta Books")
    queue_job(engine, "Tailspin", company="Beta Books")
    done = done_job(engine, "Zoë & Co")
    for name in ("Bob's Garage", "Garage Two", "Garage Three"):
        failed_job(engine, name, company="Northwind")
    with engine.begin() as conn:  # a week of history: a daily rhythm, and a bad afternoon
        rows = []
        for h in range(1, 168):
            busy = max(0.0, math.sin((h % 24) / 24 * 2 * math.pi)) * 30
            rows += [{"job_id": done, "at": now - timedelta(hours=h), "to_state": "done", "actor": "qbwc"}] * int(busy)
            if 40 <= h <= 43:
                rows += [{"job_id": done, "at": now - timedelta(hours=h), "to_state": "failed", "actor": "qbwc"}] * 6
        conn.execute(insert(JobEvent), rows)
    sweep(engine, load_settings({"database_url": url, "alert_failed_jobs": 3}, environ={}))


def test_dashboard_counts_change_without_a_reload(
    browser: Any, server: tuple[LiveServer, Engine, str], tmp_path: Path
) -> None:
    """A job queued and one cancelled while the dashboard is open change its counts in place; the page never reloads."""
    from playwright.sync_api import expect

    live, engine, url = server
    _seed(engine, url)
    shots = ROOT / "docs" / "screenshots" if UPDATE_SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the one 404 not ours to judge
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(live.url + "/")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    assert page.url == live.url + "/dashboard"  # the first page after sign-in
    acme_queued = 'tr[data-company="acme"] td[data-state="queued"]'
    total_cancelled = '.tile-count[data-state="cancelled"]'
    assert page.inner_text(acme_queued) == "1"
    assert page.inner_text(total_cancelled) == "0"
    banner = page.inner_text(".incident-banner")
    assert "2 open incidents" in banner and "Beta Books has not polled for 2 hours" in banner
    page.evaluate("window.stillThisPage = true")

    added = queue_job(engine, "Wingtip Toys")
    expect(page.locator(acme_queued)).to_have_text("2", timeout=10_000)
    with engine.begin() as conn:
        jobs.cancel(conn, added, actor=ADMIN)
    expect(page.locator(total_cancelled)).to_have_text("1", timeout=10_000)
    assert page.inner_text(acme_queued) == "1"
    assert page.evaluate("window.stillThisPage") is True  # swapped in place: no navigation happened
    assert problems == []  # htmx ran under the CSP: no violation, no script error
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    page.click("nav >> text=Incidents")
    assert "Jobs failing" in page.inner_text("table.incidents")
    page.screenshot(path=str(shots / "incidents.png"), full_page=True)
    page.click("table.incidents tr:has-text('Northwind') td:first-child a")
    assert "Opened: Northwind has 3 jobs failed" in page.inner_text("table.history")
    context.close()
