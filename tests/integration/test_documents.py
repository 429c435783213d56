"""Business documents through the Protocol against the emulator: shop invoices and POS days in each mode."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

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
            if not jobs.count_ready(conn, company.id):
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


def states(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(Job.state, Job.kind, Job.error)).all()
    out: dict[str, int] = {}
    for r in rows:
        out[str(r.state)] = out.get(str(r.state), 0) + 1
    failed = [r for r in rows if r.state is JobState.FAILED]
    assert not failed, failed[:3]
    return out


def test_a_day_of_shop_invoices(engine: Engine, protocol: Protocol, company: NewCompany) -> None:
    qb = QuickBooksEmulator(CompanyFacts())
    set_up(engine, protocol, company, qb, "shop")
    for doc in shop_day(50):
        post(engine, company, "shop_invoice", doc)
    trips = drain(protocol, company, qb)
    print(trips, states(engine))
    assert len(qb.records("Invoice")) == 50


@pytest.mark.parametrize("mode", ["detailed", "summary", "journal"])
def test_a_pos_day(engine: Engine, protocol: Protocol, company: NewCompany, mode: str) -> None:
    qb = QuickBooksEmulator(CompanyFacts())
    posting = {
        "sales": mode,
        "customers": "detailed" if mode == "detailed" else "summary",
        "items": "detailed" if mode == "detailed" else "summary",
    }
    set_up(engine, protocol, company, qb, "pos", **posting)
    post(engine, company, "pos_day", pos_day(100, refunds=5))
    trips = drain(protocol, company, qb)
    print(mode, trips, states(engine), len(qb.records("SalesReceipt")), len(qb.records("JournalEntry")))


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
    app: Any, engine: Engine, protocol: Protocol, company: NewCompany, db_url: str, monkeypatch: pytest.MonkeyPatch
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
    monkeypatch.setenv("QBWC_DATABASE_URL", db_url)
    monkeypatch.setenv("QBWC_LOG_LEVEL", "WARNING")
    path = engine.url.database + ".ro.json" if engine.url.database else "ro.json"
    with open(path, "w") as handle:
        json.dump(second, handle)
    result = CliRunner().invoke(main, ["--json", "enqueue", "acme", "shop_invoice", "--payload", path])
    assert result.exit_code == 0, result.output
    queued = json.loads(result.stdout)
    assert queued["created"] and len(queued["document"]["jobs"]) >= 2
    kinds = CliRunner().invoke(main, ["--json", "qbxml", "kinds"])
    published = json.loads(kinds.stdout)
    assert published["pos_day"]["properties"]["orders"]["type"] == "array"
    assert "repair_order" in published["shop_invoice"]["required"]
