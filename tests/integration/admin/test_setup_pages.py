"""The Setup page of a company: the profile form, the steps of a run, Run setup and reset (with CSRF)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import load_settings
from qbwc_service.db.models import CompanyReset, Job, JobState
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.workflows.imports import start_import
from qbwc_service.workflows.setup import profiles
from tests.emulator.conftest import needs_spec
from tests.emulator.driver import Session


def test_profile_form_saves_a_version_and_shows_refusals(
    admin: FlaskClient, company: NewCompany, engine: Engine
) -> None:
    """The form shows the default profile; a change saves version 1; a bad name is refused and kept as typed."""
    page = admin.get(f"/companies/{company.id}/setup")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="line_kinds.labor.name" value="Labor"' in html and "setup required" in html
    saved = admin.post(
        f"/companies/{company.id}/setup/profile",
        data={"item_prefix": "Acme ", "accounts.income.name": "Repair Income", "accounts.tips.create": "no",
              "line_kinds.part.expense_account": ""},
    )  # fmt: skip
    assert saved.status_code == 302
    with engine.connect() as conn:
        version, found = profiles.current(conn, company.id)
    assert version == 1 and found.item_prefix == "Acme " and found.accounts["income"].name == "Repair Income"
    assert found.accounts["tips"].create is False and found.line_kinds["part"].expense_account is None
    with engine.connect() as conn:
        assert profiles.history(conn, company.id)[0]["created_by"] == "ada@example.com"
    bad = admin.post(f"/companies/{company.id}/setup/profile", data={"line_kinds.labor.name": "Labor:Hours"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "line_kinds.labor.name" in text and 'value="Labor:Hours"' in text
    with engine.connect() as conn:
        assert profiles.current(conn, company.id)[0] == 1


def test_run_setup_shows_steps_and_reset_asks_for_a_reason(
    support: FlaskClient, company: NewCompany, engine: Engine
) -> None:
    """Run setup queues the steps shown with their states; a reset needs a reason, and records it with who did it."""
    assert support.post(f"/companies/{company.id}/setup/run").status_code == 302
    html = support.get(f"/companies/{company.id}/setup").get_data(as_text=True)
    assert 'data-entry="line_kind:labor"' in html and "0 of 23 steps finished" in html
    again = support.post(f"/companies/{company.id}/setup/run", follow_redirects=True).get_data(as_text=True)
    assert "already running" in again
    refused = support.post(f"/companies/{company.id}/reset", data={"reason": ""}, follow_redirects=True)
    assert "needs a reason" in refused.get_data(as_text=True)
    done = support.post(f"/companies/{company.id}/reset", data={"reason": "customer moved file"}, follow_redirects=True)
    assert "was reset: 23 queued jobs cancelled" in done.get_data(as_text=True)
    with engine.connect() as conn:
        row = conn.execute(select(CompanyReset.actor, CompanyReset.reason)).one()
        states = set(conn.execute(select(Job.state)).scalars())
    assert tuple(row) == ("sam@example.com", "customer moved file") and states == {JobState.CANCELLED}
    detail = support.get(f"/companies/{company.id}").get_data(as_text=True)
    assert 'id="reset-form"' in detail and "data-confirm=" in detail


def test_setup_forms_need_the_csrf_token(app: Flask, admin: FlaskClient, company: NewCompany) -> None:
    """With CSRF checks on, Run setup without the page's token is refused and queues nothing."""
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin.post(f"/companies/{company.id}/setup/run").status_code == 400
    page = admin.get(f"/companies/{company.id}/setup").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    assert admin.post(f"/companies/{company.id}/setup/run", data={"csrf_token": token.group(1)}).status_code == 302


@needs_spec
def test_profile_form_offers_the_names_an_import_brought(
    admin: FlaskClient, company: NewCompany, engine: Engine
) -> None:
    """Before an import the fields are free text; after importing accounts, items and vendors they offer those names."""
    before = admin.get(f"/companies/{company.id}/setup").get_data(as_text=True)
    assert "<datalist" not in before
    qb = QuickBooksEmulator(CompanyFacts())
    qb.bulk_add("Account", [{"Name": "Repair Income", "AccountType": "Income"}])
    qb.bulk_add("ItemService", [{"Name": "Shop Labor"}, {"Name": "Old Labor", "IsActive": "false"}])
    qb.bulk_add("Vendor", [{"Name": "State Tax Board"}])
    with engine.begin() as conn:
        for list_name in ("accounts", "items", "vendors"):
            start_import(conn, company.id, list_name)
    Session(Protocol(engine, load_settings({"log_level": "WARNING"}, environ={})), company, qb).run()
    html = admin.get(f"/companies/{company.id}/setup").get_data(as_text=True)
    datalists = dict(re.findall(r'<datalist id="([a-z-]+)">(.*?)</datalist>', html, re.S))
    assert '<option value="Repair Income">' in datalists["account-names"]
    assert '<option value="Shop Labor">' in datalists["item-names"] and "Old Labor" not in datalists["item-names"]
    assert '<option value="State Tax Board">' in datalists["vendor-names"]
