"""Business documents through the Protocol against the emulator: shop invoices and POS days in each mode."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from qbwc_service.accounts import companies
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import load_settings
from qbwc_service.db.models import Job, JobState
from qbwc_service.errors import PayloadError
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.simulator.days import pos_day, shop_day
from qbwc_service.workflows.setup import profiles, runs
from qbwc_service.workflows.setup.profile import default_profile, to_json
from tests.emulator.conftest import needs_spec
from tests.emulator.driver import Session

pytestmark = needs_spec


@pytest.fixture
def protocol(engine: Engine) -> Protocol:
    """The QBWC operations, batches of 50."""
    return Protocol(engine, load_settings({"log_level": "WARNING"}, environ={}))


def drain(protocol: Protocol, company: NewCompany, qb: QuickBooksEmulator, sessions: int = 20) -> int:
    """Web Connector runs until the queue is empty; the round trips they took."""
    trips = 0
    for _ in range(sessions):
        with protocol.engine.connect() as conn:
            if not jobs.outlook(conn, company.id).ready:
                break
        session = Session(protocol, company, qb, hcp=True)
        session.run(limit=500)
        trips += len(session.percentages)
    return trips


def set_up(engine: Engine, protocol: Protocol, company: NewCompany, qb: QuickBooksEmulator, system: str,
           **posting: str) -> None:  # fmt: skip
    body = to_json(default_profile(system))
    body["posting"].update(posting)
    with engine.begin() as conn:
        profiles.save(conn, company.id, body, actor="test")
        runs.start(conn, company.name, actor="test")
    drain(protocol, company, qb)
    with engine.connect() as conn:
        assert runs.show(conn, company.name)["run"]["state"] == "done"


def post(engine: Engine, company: NewCompany, kind: str, document: dict[str, Any]) -> jobs.Enqueued:
    with engine.begin() as conn:
        return jobs.enqueue(conn, company.id, kind, document, actor="test")


def jobs_of(engine: Engine, company: NewCompany) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Job.state, Job.kind, Job.error).where(Job.company_id == company.id)))


def states(engine: Engine, company: NewCompany) -> dict[str, int]:
    rows = jobs_of(engine, company)
    out: dict[str, int] = {}
    for r in rows:
        out[str(r.state)] = out.get(str(r.state), 0) + 1
    failed = [r for r in rows if r.state is JobState.FAILED]
    assert not failed, failed[:3]
    return out


def connect(engine: Engine, name: str) -> NewCompany:
    with engine.begin() as conn:
        return companies.create_company(conn, name, f"{name}-qbwc")


def ledger_of(qb: QuickBooksEmulator) -> dict[str, Decimal]:
    """The emulator's ledger (setup posts nothing: it is what the documents posted), in balance."""
    found = qb.ledger()
    assert sum(found.values(), Decimal(0)) == 0
    return found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_day_of_500_shop_invoices_posts_the_same_books_in_detailed_and_summary_mode(
    engine: Engine, protocol: Protocol
) -> None:
    """Detailed: a customer each and every line; summary: the walk-in customer, a line per kind. Same ledger."""
    day = shop_day(500)
    books, trips, emulators = {}, {}, {}
    for mode in ("detailed", "summary"):
        company, qb = connect(engine, f"shop-{mode}"), QuickBooksEmulator(CompanyFacts())
        set_up(engine, protocol, company, qb, "shop", customers=mode, sales=mode)
        for doc in day:
            post(engine, company, "shop_invoice", doc)
        trips[mode] = drain(protocol, company, qb)
        count = len(jobs_of(engine, company))
        assert states(engine, company) == {"done": count}
        # A repair order's customer ensure, invoice and payments share messages with others': about 25 jobs a trip.
        assert trips[mode] * 20 <= count, (trips, count)
        assert len(qb.records("Invoice")) == 500 and not qb.duplicates()
        books[mode], emulators[mode] = ledger_of(qb), qb
    wanted = {d["customer"]["name"] for d in day}
    assert wanted <= {c["Name"] for c in emulators["detailed"].records("Customer")}
    assert [c["Name"] for c in emulators["summary"].records("Customer")] == ["Walk-in Customer"]
    assert books["detailed"] == books["summary"]
    paid = sum((Decimal(p["amount"]) for d in day for p in d.get("payments", ())), Decimal(0))
    assert books["detailed"]["Undeposited Funds"] == paid
    assert books["detailed"]["Sales Tax Payable"] == -sum((Decimal(d["tax"]) for d in day), Decimal(0))
    lines = sum(len(d["lines"]) + (Decimal(d["tax"]) > 0) for d in day)  # each line, and the tax's
    assert sum(len(i["InvoiceLineRet"]) for i in emulators["detailed"].records("Invoice")) == lines


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_pos_day_of_500_orders_posts_the_same_books_in_every_mode(engine: Engine, protocol: Protocol) -> None:
    """Per order, per location and tender, or as a journal entry: income, tax, tenders and liabilities alike."""
    day = pos_day(500, refunds=12)
    books = {}
    for mode in ("detailed", "summary", "journal"):
        company, qb = connect(engine, f"pos-{mode}"), QuickBooksEmulator(CompanyFacts())
        detail = "detailed" if mode == "detailed" else "summary"
        set_up(engine, protocol, company, qb, "pos", sales=mode, customers=detail, items=detail)
        first = post(engine, company, "pos_day", day)
        assert post(engine, company, "pos_day", day).jobs == first.jobs  # the day posted twice posts once
        drain(protocol, company, qb)
        assert states(engine, company) == {"done": len(jobs_of(engine, company))}
        assert not qb.duplicates()
        books[mode] = ledger_of(qb)
        receipts, entries = qb.records("SalesReceipt"), qb.records("JournalEntry")
        if mode == "detailed":
            assert len(receipts) == 512 and not entries
            assert {f"Product {p:03d}" for p in range(60)} & {i["Name"] for i in qb.records("ItemNonInventory")}
        elif mode == "summary":
            assert 2 <= len(receipts) <= 6 and not entries
            assert len({r["RefNumber"] for r in receipts}) == len(receipts)
        else:
            assert len(entries) == 2 and not receipts
    assert books["detailed"] == books["summary"] == books["journal"]
    tips = sum((Decimal(o.get("tip", "0")) for o in day["orders"]), Decimal(0))
    assert tips and books["journal"]["Tips Payable"] == -tips
    assert "Gift Cards Outstanding" in books["journal"] and "Discounts Given" in books["journal"]


def test_a_document_posted_twice_posts_once(engine: Engine, protocol: Protocol, company: NewCompany) -> None:
    """The same repair order again queues nothing; other content under the same number is refused."""
    qb = QuickBooksEmulator(CompanyFacts())
    set_up(engine, protocol, company, qb, "shop")
    (doc,) = shop_day(1)
    first = post(engine, company, "shop_invoice", doc)
    assert first.created and len(first.jobs) == 1 + 1 + len(doc.get("payments", []))
    again = post(engine, company, "shop_invoice", doc)
    assert not again.created and again.jobs == first.jobs and again.job_id == first.job_id
    drain(protocol, company, qb)
    assert post(engine, company, "shop_invoice", doc).jobs == first.jobs  # and after it is done
    changed = {**doc, "tax": "999.00"}
    with pytest.raises(PayloadError, match=r"this repair order \(ro000001\) was posted on .* with other content"):
        post(engine, company, "shop_invoice", changed)
    assert [r["RefNumber"] for r in qb.records("Invoice")] == ["RO000001"]


def test_detailed_mode_is_refused_past_the_list_limit(engine: Engine, protocol: Protocol, company: NewCompany) -> None:
    """Today's count plus the last 30 days' new names past 14,500 refuses detailed mode; from 80 % it warns."""
    from qbwc_service.simulator import Edition
    from qbwc_service.workflows.imports import counts

    qb = QuickBooksEmulator(CompanyFacts(edition=Edition.PRO))
    set_up(engine, protocol, company, qb, "pos", customers="detailed", sales="detailed")
    qb.bulk_add("Customer", ({"Name": f"Old {n:05d}"} for n in range(11_590)))
    with engine.begin() as conn:
        counts.refresh_if_stale(conn, company.id)
    drain(protocol, company, qb)
    warned = post(engine, company, "pos_day", pos_day(30, seed=2))
    assert warned.created and warned.warnings
    assert warned.warnings[0].startswith("posting.customers: detailed mode is taking the list to 11,6")
    qb.bulk_add("Customer", ({"Name": f"More {n:05d}"} for n in range(2_890)))
    second = pos_day(30, seed=3, day=date(2026, 12, 2))
    for order in second["orders"]:
        order["customer"] = {"name": f"New {order['number']}"}
    with engine.begin() as conn:  # a day later: counted again
        stale = datetime.now(UTC) - timedelta(days=2)
        conn.execute(update(Job).where(Job.kind == "list_counts").values(finished_at=stale))
    with engine.begin() as conn:
        counts.refresh_if_stale(conn, company.id)
    drain(protocol, company, qb)
    refused = (r"posting.customers: detailed mode would take the list to 14,5\d\d of the 14,500 names QuickBooks "
               r"Pro holds .*set the profile's posting.customers to summary")  # fmt: skip
    with pytest.raises(PayloadError, match=refused):
        post(engine, company, "pos_day", second)


def test_documents_through_the_json_api_and_the_command_line(
    app: Any,
    engine: Engine,
    protocol: Protocol,
    company: NewCompany,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """POST a repair order as a job kind, list the company's documents; the CLI queues one from a file alike."""
    import json

    from click.testing import CliRunner

    from qbwc_service.accounts.api_keys import create_api_key
    from qbwc_service.cli import main

    qb = QuickBooksEmulator(CompanyFacts())
    set_up(engine, protocol, company, qb, "shop")
    with engine.begin() as conn:
        auth = {"Authorization": f"Bearer {create_api_key(conn, 'shop').key}"}
    client = app.test_client()
    first, second = shop_day(2)
    made = client.post("/api/v1/companies/acme/jobs", json={"kind": "shop_invoice", "payload": first}, headers=auth)
    assert made.status_code == 201, made.json
    assert made.json["kind"] == "invoice_add" and made.json["document"]["jobs"][1] == made.json["id"]
    again = client.post("/api/v1/companies/acme/jobs", json={"kind": "shop_invoice", "payload": first}, headers=auth)
    assert again.status_code == 200 and again.json["document"] == made.json["document"]
    bad = client.post("/api/v1/companies/acme/jobs", headers=auth,
                      json={"kind": "shop_invoice", "payload": {**first, "lines": [{"kind": "wheels", "amount": "1"}],
                                                                "payments": []}})  # fmt: skip
    assert bad.status_code == 422 and bad.json["errors"][0].startswith("lines.0.kind: the line kind 'wheels'")
    listed = client.get("/api/v1/companies/acme/documents", headers=auth).json["documents"]
    assert [(d["kind"], d["key"], d["job_states"]) for d in listed] == [
        ("shop_invoice", "ro000001", {"queued": len(made.json["document"]["jobs"])})]  # fmt: skip
    from tests.integration.admin.factories import SUPPORT, login, make_user

    make_user(engine, SUPPORT, "support")
    app.config["WTF_CSRF_ENABLED"] = False
    assert login(client, SUPPORT).status_code == 302
    page = client.get(f"/companies/{company.id}").get_data(as_text=True)
    assert "Business documents" in page and "ro000001" in page and f"{len(listed[0]['jobs'])} queued" in page
    monkeypatch.setenv("QBWC_DATABASE_URL", db_url)
    monkeypatch.setenv("QBWC_LOG_LEVEL", "WARNING")
    path = tmp_path / "ro.json"
    path.write_text(json.dumps(second))
    result = CliRunner().invoke(main, ["--json", "enqueue", "acme", "shop_invoice", "--payload", str(path)])
    assert result.exit_code == 0, result.output
    queued = json.loads(result.stdout)
    assert queued["created"] and len(queued["document"]["jobs"]) >= 2
    kinds = CliRunner().invoke(main, ["--json", "qbxml", "kinds"])
    published = json.loads(kinds.stdout)
    assert published["pos_day"]["properties"]["orders"]["type"] == "array"
    assert "repair_order" in published["shop_invoice"]["required"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_daily_company_posts_its_day_within_a_poll_of_the_time_and_sync_now_at_once(
    engine: Engine, protocol: Protocol, company: NewCompany
) -> None:
    """Under a frozen clock: nothing goes before 22:00 in the company's zone, all of it at the first poll after."""
    import time_machine

    from qbwc_service.accounts import schedule
    from qbwc_service.db.models import SyncMode

    noon = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 12:00 in Chicago
    with time_machine.travel(noon, tick=False) as clock:
        qb = QuickBooksEmulator(CompanyFacts())
        set_up(engine, protocol, company, qb, "pos")
        with engine.begin() as conn:
            schedule.set_schedule(conn, company.name, SyncMode.DAILY, at="22:00", time_zone="America/Chicago")
        posted = post(engine, company, "pos_day", pos_day(40))
        assert protocol.authenticate(company.username, company.token) == ["", "none"]
        clock.move_to(datetime(2026, 12, 2, 3, 55, tzinfo=UTC))  # 21:55: come back at 22:00, not at the next poll
        assert protocol.authenticate(company.username, company.token) == ["", "none", "300"]
        assert not qb.records("SalesReceipt")
        clock.move_to(datetime(2026, 12, 2, 4, 4, tzinfo=UTC))  # 22:04, the first poll after the time
        drain(protocol, company, qb)
        assert states(engine, company) == {"done": len(jobs_of(engine, company))}
        assert len(qb.records("SalesReceipt")) >= 2 and len(posted.jobs) >= 3
        clock.move_to(datetime(2026, 12, 2, 16, 0, tzinfo=UTC))  # 10:00 the next day: sync now
        post(engine, company, "pos_day", pos_day(10, day=date(2026, 12, 2)))
        assert protocol.authenticate(company.username, company.token)[:2] == ["", "none"]
        with engine.begin() as conn:
            schedule.sync_now(conn, company.name)
        before = len(qb.records("SalesReceipt"))
        drain(protocol, company, qb)
        assert len(qb.records("SalesReceipt")) > before


def test_documents_queued_while_setup_runs_wait_for_its_steps(
    engine: Engine, protocol: Protocol, company: NewCompany
) -> None:
    """Before setup has resolved the mapping, a document refers to the entries by name and waits for their steps."""
    qb = QuickBooksEmulator(CompanyFacts())
    with engine.begin() as conn:
        runs.start(conn, company.name, actor="test")
    queued = [post(engine, company, "shop_invoice", doc) for doc in shop_day(5)]
    with engine.connect() as conn:
        waits_for = jobs.dependencies_of(conn, [queued[0].job_id])[queued[0].job_id]
        kinds = dict(conn.execute(select(Job.id, Job.kind).where(Job.id.in_(waits_for))).all())
    assert "setup_ensure" in kinds.values() and "customer_ensure" in kinds.values()
    trips = drain(protocol, company, qb)
    assert states(engine, company) == {"done": len(jobs_of(engine, company))}
    assert len(qb.records("Invoice")) == 5 and trips <= 8
    labor = next(i for i in qb.records("ItemService") if i["Name"] == "Shop Labor")
    assert all(i["InvoiceLineRet"][0]["ItemRef"]["ListID"] == labor["ListID"] for i in qb.records("Invoice"))
