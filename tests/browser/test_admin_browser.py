"""The admin pages in a real browser: Debian's chromium driven by Playwright over HTTP."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, insert, update

from qbwc_service.db.models import Company, QbwcSession, SessionState, utcnow
from tests.conftest import ROOT, LiveServer, make_test_app
from tests.integration.admin.factories import ADMIN, PASSWORD, done_job, failed_job, make_user, queue_job

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
#: Screenshots land in docs/screenshots only when asked (QBWC_UPDATE_SCREENSHOTS=1), so test runs leave the tree clean.
UPDATE_SCREENSHOTS = os.environ.get("QBWC_UPDATE_SCREENSHOTS") == "1"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium (never a downloaded one), or a skip when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        found = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield found
        found.close()


@pytest.fixture
def server(sqlite_url: str) -> Iterator[tuple[LiveServer, Engine]]:
    """The application on a fresh SQLite database over HTTP, with an admin and a company with history."""
    app = make_test_app(sqlite_url)
    engine: Engine = app.extensions["qbwc"].engine
    make_user(engine, ADMIN, "admin")
    with LiveServer(app) as live:
        yield live, engine
    engine.dispose()


def _seed(engine: Engine) -> int:
    """Give acme a history: done, queued and failed jobs, and two Web Connector sessions."""
    from qbwc_service.accounts import companies

    with engine.begin() as conn:
        companies.create_company(conn, "acme", "acme-qbwc", company_file=r"C:\Books\acme.qbw")
    for name in ("Zoë & Co", "Northwind Traders"):
        done_job(engine, name)
    queue_job(engine, "Contoso Ltd")
    failed = failed_job(engine, "Bob's Garage")
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            update(Company).values(
                last_poll_at=now - timedelta(minutes=2), qbwc_version="2.3.0.215", qbxml_version="16.0",
                reported_company_file=r"C:\Books\acme.qbw",
            )
        )  # fmt: skip
        conn.execute(
            insert(QbwcSession),
            [{"ticket": "9f3c2a7e5b1d4c8a", "company_id": 1, "state": SessionState.CLOSED,
              "started_at": now - timedelta(minutes=2), "last_seen_at": now, "ended_at": now - timedelta(minutes=1),
              "sent": 3, "done": 2, "failed": 1, "retried": 0, "round_trips": 2, "hcp_seen": True}],
        )  # fmt: skip
    return failed


def test_admin_connects_a_company_and_support_retries_a_failed_job(
    browser: Any, server: tuple[LiveServer, Engine], tmp_path: Path
) -> None:
    """Log in, create a connection, download its .qwc, see the token once, filter jobs, retry a failed one."""
    live, engine = server
    failed = _seed(engine)
    shots = ROOT / "docs" / "screenshots" if UPDATE_SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()

    page.goto(live.url + "/jobs")
    assert page.url.endswith("/login?next=/jobs")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", "not the password")
    page.click("button:has-text('Log in')")
    assert "do not match" in page.inner_text(".flash-error")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(shots / "login.png"))
    page.click("button:has-text('Log in')")
    assert page.url == live.url + "/jobs"

    page.click("nav >> text=Companies")
    page.click("text=New connection")
    page.fill("input[name=name]", "Beta Books")
    page.fill("input[name=username]", "beta-qbwc")
    page.fill("input[name=company_file]", r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\beta.qbw")
    page.fill("input[name=poll_minutes]", "15")
    page.click("button:has-text('Create connection')")
    token = page.inner_text("#token").strip()
    assert len(token) >= 32 and "Shown only now" in page.content()
    page.click("button[data-copy=token]")
    page.wait_for_selector("button[data-copy=token]:has-text('Copied')")
    page.screenshot(path=str(shots / "company-token.png"), full_page=True)

    with page.expect_download() as download:
        page.click(".pagehead >> text=Download .qwc")
    assert download.value.suggested_filename == "Beta-Books.qwc"
    qwc = etree.fromstring(Path(download.value.path()).read_bytes())
    assert qwc.findtext("UserName") == "beta-qbwc"
    assert qwc.findtext("AppURL") == "http://localhost:8000/qbwc"
    assert qwc.findtext("Scheduler/RunEveryNMinutes") == "15"
    assert re.fullmatch(r"\{[0-9A-F-]{36}\}", qwc.findtext("OwnerID") or "")
    assert token not in etree.tostring(qwc, encoding="unicode")

    page.click("nav >> text=Companies")
    assert token not in page.content()
    page.click("text=Beta Books")
    assert page.query_selector("#token") is None and token not in page.content()
    page.click("nav >> text=Companies")
    page.screenshot(path=str(shots / "companies.png"), full_page=True)

    page.click("nav >> text=Jobs")
    page.select_option("select[name=state]", "failed")
    page.fill("input[name=q]", "garage")
    page.click("button:has-text('Filter')")
    assert "state=failed" in page.url and "q=garage" in page.url
    rows = page.query_selector_all("table.jobs tbody tr")
    assert len(rows) == 1 and "Bob's Garage" in rows[0].inner_text()
    page.click("nav >> text=Jobs")
    page.screenshot(path=str(shots / "jobs.png"), full_page=True)
    page.goto(live.url + "/jobs?state=failed&q=garage")

    page.click("table.jobs >> text=Bob's Garage")
    assert page.url.endswith(f"/jobs/{failed}")
    assert page.inner_text("h1 .badge") == "Failed"
    assert "refers to something QuickBooks does not have" in page.content()
    page.screenshot(path=str(shots / "job-detail.png"), full_page=True)
    page.click("button:has-text('Retry')")
    assert page.inner_text("h1 .badge") == "Queued"
    assert "is queued again" in page.inner_text(".flash-ok")
    history = page.inner_text("table.history")
    assert "Failed → Queued" in history and ADMIN in history
    context.close()


def test_token_is_not_kept_in_browser_history_or_cookies(browser: Any, server: tuple[LiveServer, Engine]) -> None:
    """After rotating a token, neither the URL, the cookies nor a reload of the company page shows it."""
    live, engine = server
    _seed(engine)
    context = browser.new_context()
    page = context.new_page()
    page.goto(live.url + "/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(live.url + "/companies/1")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('New token')")
    token = page.inner_text("#token").strip()
    assert token not in page.url
    assert all(token not in c["value"] for c in context.cookies())
    page.goto(live.url + "/companies/1")
    assert page.query_selector("#token") is None and token not in page.content()
    context.close()


def test_admin_schedules_a_company_and_presses_sync_now(
    browser: Any, server: tuple[LiveServer, Engine], tmp_path: Path
) -> None:
    """The schedule form refuses a misspelt zone with one error, saves daily 22:00 Chicago; Sync now releases work."""
    live, engine = server
    _seed(engine)
    shots = ROOT / "docs" / "screenshots" if UPDATE_SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live.url + "/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(live.url + "/companies/1")
    assert page.inner_text("#schedule-summary") == "Syncs at every poll of the Web Connector"
    assert page.locator("#schedule >> button:has-text('Sync now')").count() == 0

    page.check("#schedule input[name=mode][value=daily]")
    page.fill("#schedule input[name=at]", "22:00")
    page.fill("#schedule input[name=time_zone]", "America/Chicgo")
    page.click("button:has-text('Save schedule')")
    assert page.locator("#schedule-error").count() == 1
    assert "'America/Chicgo' is not a time zone" in page.inner_text("#schedule-error")
    assert page.input_value("#schedule input[name=at]") == "22:00"  # what was typed is kept

    page.fill("#schedule input[name=time_zone]", "America/Chicago")
    page.click("button:has-text('Save schedule')")
    assert "acme now syncs daily at 22:00 (America/Chicago)." in page.inner_text(".flash-ok")
    assert page.inner_text("#schedule-summary") == "Syncs daily at 22:00 (America/Chicago)"
    next_sync = page.inner_text("#next-sync")
    assert re.fullmatch(r"next sync at \d{4}-\d\d-\d\d 22:00 C[SD]T \(America/Chicago\), \d{4}-\d\d-\d\d 0[34]:00 UTC",
                        next_sync), next_sync  # fmt: skip
    assert page.inner_text("#waiting") == "1 queued job wait for it"
    page.screenshot(path=str(shots / "company-schedule.png"), full_page=True)

    page.click("#schedule >> button:has-text('Sync now')")
    assert "goes at the Web Connector's next poll (it polls every 5 minutes)" in page.inner_text(".flash-ok")
    assert page.inner_text("#next-sync") == "at the Web Connector's next poll: the waiting work is released"
