"""Company setup in a real browser: the Setup page through a run with sales tax off, on, and a reset.

With ``QBWC_UPDATE_SCREENSHOTS=1`` its screenshots go to docs/screenshots, for docs/integration-guide.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from qbwc_service.accounts import companies
from qbwc_service.queue.retry import RetryPolicy
from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.simulator.webconnector import WebConnector
from tests.browser.test_admin_browser import UPDATE_SCREENSHOTS
from tests.conftest import ROOT, LiveServer, make_test_app
from tests.integration.admin.factories import ADMIN, PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def service(sqlite_url: str) -> Iterator[tuple[LiveServer, Flask]]:
    """The application over HTTP with an admin, retries at once."""
    app = make_test_app(sqlite_url)
    app.extensions["qbwc_protocol"].policy = RetryPolicy(base_delay=timedelta(0))
    make_user(app.extensions["qbwc"].engine, ADMIN, "admin")
    with LiveServer(app) as live:
        yield live, app
    app.extensions["qbwc"].engine.dispose()


def test_setup_page_from_sales_tax_off_to_done_then_reset(
    browser: Any,  # the fixture of tests/browser/conftest.py
    service: tuple[LiveServer, Flask],
    tmp_path: Path,
) -> None:
    """Edit the profile, run setup, see it wait for sales tax, finish once it is on, then reset with a reason."""
    live, app = service
    shots = ROOT / "docs" / "screenshots" if UPDATE_SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with app.extensions["qbwc"].engine.begin() as conn:
        made = companies.create_company(conn, "Main Street Auto", "msa-qbwc")
    qb = QuickBooksEmulator(CompanyFacts(sales_tax=False))
    connector = WebConnector(live.url + "/qbwc", made.username, made.token, qb)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(live.url + "/login")
        page.fill("input[name=email]", ADMIN)
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Log in')")
        page.goto(live.url + f"/companies/{made.id}")
        page.click("#setup-link")
        assert page.inner_text("#setup-required") == "setup required"
        page.fill("input[name='item_prefix']", "MSA ")
        page.fill("input[name='accounts.income.name']", "Repair Income")
        page.screenshot(path=str(shots / "setup-profile.png"), full_page=True)
        page.click("button:has-text('Save profile')")
        assert "Profile version 1 saved." in page.inner_text(".flash-ok")
        assert page.input_value("input[name='accounts.income.name']") == "Repair Income"

        page.click(".pagehead >> button:has-text('Run setup')")
        assert "queued" in page.inner_text(".flash-ok")
        assert "0 of 23 steps finished" in page.inner_text("#progress")

        connector.run_session()  # sales tax is off: only the preferences are read
        page.reload()
        check = page.inner_text("tr[data-entry=preferences]")
        assert "Edit → Preferences → Sales Tax → Company Preferences → Do you charge sales tax? → Yes" in check
        assert "waiting" in check
        page.screenshot(path=str(shots / "setup-sales-tax-off.png"), full_page=True)

        qb.set_sales_tax(True)
        connector.run_session()
        page.reload()
        assert page.inner_text("#setup-required") == "set up"
        assert "23 of 23 steps finished" in page.inner_text("#progress")
        labor = page.inner_text("tr[data-entry='line_kind:labor']")
        assert "created in QuickBooks" in labor and qb.find("ItemService", "MSA Labor")["ListID"] in labor
        assert "already in QuickBooks" in page.inner_text("tr[data-entry='sales_tax:taxable_code']")
        page.screenshot(path=str(shots / "setup-done.png"), full_page=True)

        page.goto(live.url + f"/companies/{made.id}")
        page.fill("#reset-form input[name=reason]", "The shop moved to a new company file")
        page.screenshot(path=str(shots / "company-reset.png"), full_page=True)
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('Reset integration')")
        assert "was reset" in page.inner_text(".flash-warn")
        assert page.inner_text("#setup-required") == "setup required"
        assert qb.find("ItemService", "MSA Labor") is not None  # nothing deleted in QuickBooks
    finally:
        context.close()
        connector.close()
