"""Company setup end to end: the service over HTTP, a simulated Web Connector and the QuickBooks emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from qbwc_service.accounts import companies
from qbwc_service.db.models import Job, JobState
from qbwc_service.queue.retry import RetryPolicy
from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.simulator.webconnector import Outcome, SessionReport, WebConnector
from qbwc_service.workflows.setup import kinds, mapping, profile, profiles, reset, runs
from tests.conftest import LiveServer, make_test_app
from tests.emulator.test_end_to_end import engine_of

#: What a run of the default shop profile makes sure of: 10 accounts, agency, 2 codes, tax item, 8 items.
ENTRIES = 22


@pytest.fixture
def service(sqlite_url: str) -> Iterator[tuple[Flask, str]]:
    """The service on SQLite over HTTP, retries at once."""
    app = make_test_app(sqlite_url, session_timeout=1, busy_retry_seconds=1)
    app.extensions["qbwc_protocol"].policy = RetryPolicy(base_delay=timedelta(0))
    with LiveServer(app) as server:
        yield app, server.url + "/qbwc"
    app.extensions["qbwc"].engine.dispose()


class Shop:
    """One company connection with its emulated QuickBooks and Web Connector."""

    def __init__(self, app: Flask, url: str, name: str, facts: CompanyFacts) -> None:
        self.engine = engine_of(app)
        with self.engine.begin() as conn:
            self.company = companies.create_company(conn, name, f"{name}-qbwc")
        self.qb = QuickBooksEmulator(facts)
        self.connector = WebConnector(url, self.company.username, self.company.token, self.qb)
        self.report: SessionReport | None = None

    def start(self) -> int:
        with self.engine.begin() as conn:
            return runs.start(conn, self.company.name, actor="test")

    def show(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return runs.show(conn, self.company.name)

    def session(self) -> list[str]:
        """One Web Connector run; the requests QuickBooks answered in it (by name)."""
        before = len(self.qb.history)
        self.report = report = self.connector.run_session()
        assert report.outcome in (Outcome.DONE, Outcome.NONE), report
        return [h.request for h in self.qb.history[before:]]

    def steps(self) -> dict[str, dict[str, Any]]:
        return {s["entry"]: s for s in self.show()["steps"]}

    def count(self) -> int:
        """List entries in the emulated company."""
        kinds_ = ("Account", "Vendor", "SalesTaxCode", "ItemSalesTax", "ItemService", "ItemNonInventory",
                  "ItemDiscount", "ItemOtherCharge")  # fmt: skip
        return sum(len(self.qb.records(k)) for k in kinds_)


@pytest.fixture
def shop(service: tuple[Flask, str]) -> Iterator[Shop]:
    """A fresh US company with sales tax off."""
    made = Shop(*service, "shop", CompanyFacts(sales_tax=False))
    yield made
    made.connector.close()


def test_sales_tax_off_stops_before_anything_else_then_proceeds_once_it_is_on(shop: Shop) -> None:
    """With sales tax off only the preferences are read, again at each run; turned on, everything is created once."""
    shop.start()
    before = shop.count()
    assert shop.session() == ["PreferencesQueryRq"]
    check = shop.steps()["preferences"]
    assert check["state"] == "waiting"
    assert kinds.SALES_TAX_STEPS in check["message"]
    assert "Edit → Preferences → Sales Tax → Company Preferences → Do you charge sales tax? → Yes" in check["message"]
    assert {s["state"] for s in shop.show()["steps"]} == {"waiting"}
    assert shop.count() == before

    assert shop.report is not None and kinds.SALES_TAX_STEPS in (
        shop.report.close_message or ""
    )  # the Web Connector shows it too
    assert shop.session() == ["PreferencesQueryRq"]  # it checks again by itself at the next session
    assert shop.count() == before

    shop.qb.set_sales_tax(True)
    sent = shop.session()
    assert sent[0] == "PreferencesQueryRq"
    shown = shop.show()
    assert shown["run"]["state"] == "done" and not shown["setup_required"], [
        s["message"] for s in shown["steps"] if s["state"] == "failed"
    ]
    assert shown["run"]["progress"] == {"finished": ENTRIES + 1, "total": ENTRIES + 1}
    states = {e: s["state"] for e, s in shop.steps().items()}
    assert states.pop("preferences") == "done"
    # Turning sales tax on made QuickBooks' own Tax and Non codes: adopted; everything else is created.
    assert states.pop("sales_tax:taxable_code") == states.pop("sales_tax:non_taxable_code") == "already there"
    assert set(states.values()) == {"done"}, states
    assert all(s["list_id"] for e, s in shop.steps().items() if e != "preferences")
    labor = shop.qb.find("ItemService", "Shop Labor")
    part = shop.qb.find("ItemNonInventory", "Shop Parts")
    agency = shop.qb.find("Vendor", "State Sales Tax Agency")
    tax_item = shop.qb.find("ItemSalesTax", "Sales Tax")
    assert labor and part and agency and tax_item
    assert tax_item["TaxVendorRef"]["FullName"] == "State Sales Tax Agency"
    assert part["SalesAndPurchase"]["ExpenseAccountRef"]["FullName"] == "Cost of Goods Sold"
    assert shop.qb.find("Account", "Gift Cards Outstanding")["AccountType"] == "OtherCurrentLiability"
    with shop.engine.connect() as conn:
        assert mapping.list_id(conn, shop.company.id, mapping.line_kind("labor")) == labor["ListID"]
        assert mapping.require(conn, shop.company.id, mapping.sales_tax("item")).list_id == tax_item["ListID"]
        assert len(mapping.resolved(conn, shop.company.id)) == ENTRIES
    assert not shop.qb.duplicates()


def test_a_second_run_creates_nothing_and_reports_every_step_already_there(shop: Shop) -> None:
    """Run twice: the second run adds nothing to QuickBooks and each entry reads 'already in QuickBooks'."""
    shop.qb.set_sales_tax(True)
    shop.start()
    shop.session()
    count = shop.count()
    shop.start()
    sent = shop.session()
    assert not [r for r in sent if r.endswith("AddRq")]
    assert shop.count() == count
    steps = [s for s in shop.show()["steps"] if s["entry"] != "preferences"]
    assert len(steps) == ENTRIES
    assert {(s["state"], s["message"]) for s in steps} == {("already there", "already in QuickBooks")}


def test_entries_that_exist_are_adopted_and_a_wrong_account_type_is_reported_and_left(shop: Shop) -> None:
    """An existing account is adopted; one of another type fails its step, is left unchanged, and so do its items."""
    shop.qb.set_sales_tax(True)
    income = shop.qb.special_account("Sales Income", "Income")
    shop.qb.special_account("Cost of Goods Sold", "Expense")
    before = shop.qb.find("Account", "Cost of Goods Sold")
    shop.start()
    shop.session()
    steps = shop.steps()
    assert steps["account:income"]["state"] == "already there"
    assert steps["account:income"]["list_id"] == income["ListID"]
    cogs = steps["account:cogs"]
    assert cogs["state"] == "failed"
    assert "account_type is 'Expense' in QuickBooks, 'CostOfGoodsSold' in the job" in cogs["message"]
    assert shop.qb.find("Account", "Cost of Goods Sold") == before
    assert steps["line_kind:part"]["state"] == "failed"
    assert f"job {cogs['job_id']}, which it depends on, failed" in steps["line_kind:part"]["message"]
    assert steps["line_kind:labor"]["state"] == "done"
    assert shop.qb.find("ItemNonInventory", "Shop Parts") is None
    assert shop.show()["setup_required"]


def test_reset_cancels_forgets_keeps_history_and_setup_runs_again(shop: Shop) -> None:
    """A reset cancels queued work, forgets the mapping, keeps every job, and a new run adopts what QuickBooks has."""
    shop.qb.set_sales_tax(True)
    shop.start()
    shop.session()
    with shop.engine.begin() as conn:
        other = runs.start(conn, shop.company.name, actor="test")  # queued, never sent
        done = reset.reset(conn, shop.company.name, actor="support@example.com", reason="moved to a new file")
    assert done["cancelled"] == ENTRIES + 1 and done["forgotten"] == ENTRIES
    shown = shop.show()
    assert shown["setup_required"] and shown["run"] is None and shown["steps"] == []
    assert shown["last_reset"]["actor"] == "support@example.com"
    assert shown["last_reset"]["reason"] == "moved to a new file"
    with shop.engine.connect() as conn:
        assert mapping.resolved(conn, shop.company.id) == {}
        states = conn.execute(select(Job.state).where(Job.company_id == shop.company.id)).scalars().all()
    assert states.count(JobState.DONE) == ENTRIES + 1 and states.count(JobState.CANCELLED) == ENTRIES + 1
    assert other
    count = shop.count()
    shop.start()
    shop.session()
    assert shop.count() == count
    assert not shop.show()["setup_required"]
    with shop.engine.connect() as conn:
        assert len(mapping.resolved(conn, shop.company.id)) == ENTRIES


def test_a_canadian_company_is_refused_what_it_does_not_support(service: tuple[Flask, str]) -> None:
    """A US profile on a CA company stops at the preferences check; a CA profile with an agency is refused on saving."""
    shop = Shop(*service, "canuck", CompanyFacts.for_country("CA"))
    try:
        shop.start()
        assert shop.session() == []  # the preferences check cannot be built for CA: nothing is sent
        check = shop.steps()["preferences"]
        assert check["state"] == "failed"
        assert "this company's QuickBooks is the CA edition, but its integration profile is for US" in check["message"]
        us = profile.to_json(profile.default_profile("shop", "US"))
        with shop.engine.begin() as conn, pytest.raises(profile.ProfileError) as refused:
            profiles.save(conn, shop.company.id, {**us, "country": "CA"}, actor="test")
        assert "sales_tax.agency: QuickBooks Canadian editions have no sales tax agency" in str(refused.value)
        with shop.engine.begin() as conn, pytest.raises(profile.ProfileError) as refused:
            profiles.save(conn, shop.company.id, us, actor="test")
        assert "country: this company's QuickBooks is the CA edition, but the profile is for US" in str(refused.value)
        with shop.engine.connect() as conn:
            assert profiles.current(conn, shop.company.id)[1].country == "CA"  # the default follows the company
        ca = profile.to_json(profile.default_profile("shop", "CA"))
        ca["sales_tax"]["taxable_code"]["name"], ca["sales_tax"]["non_taxable_code"]["name"] = "Tax", "Non"
        with shop.engine.begin() as conn:
            assert profiles.save(conn, shop.company.id, ca, actor="test") == (1, True)
        shop.start()
        sent = shop.session()
        assert "SalesTaxCodeAddRq" not in sent and "VendorAddRq" not in sent
        steps = shop.steps()
        assert steps["sales_tax:taxable_code"]["state"] == "already there"
        assert "sales_tax:agency" not in steps
        assert not shop.show()["setup_required"]
    finally:
        shop.connector.close()
