"""References between jobs and dependency-aware batching, over a real database and the emulator."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine, select

from qbwc_service.accounts.api_keys import create_api_key
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.cli import main
from qbwc_service.config import load_settings
from qbwc_service.db.models import Job, JobState
from qbwc_service.errors import PayloadError
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator.company import CompanyFacts
from qbwc_service.simulator.emulator import QuickBooksEmulator
from tests.helpers import last_xml, response_doc, rs

CUSTOMER = {"name": "Acme"}
ITEM = {"name": "Labour", "sales_or_purchase": {"desc": "Labour", "price": "40.00"}}


def invoice(ref_number: str, customer: Any = None, quantity: int = 2) -> dict[str, Any]:
    """An invoice for ``customer`` (a ref; Acme by name by default) of ``quantity`` hours of labour."""
    return {
        "customer_ref": customer or {"full_name": "Acme"},
        "ref_number": ref_number,
        "lines": [{"item_ref": {"full_name": "Labour"}, "quantity": str(quantity)}],
    }


def enqueue(engine: Engine, kind: str, payload: dict[str, Any], **kwargs: Any) -> int:
    """Queue one job for acme; its id."""
    with engine.begin() as conn:
        return jobs.enqueue(conn, "acme", kind, payload, **kwargs).job_id


def job(engine: Engine, job_id: int) -> Any:
    """The job row."""
    with engine.connect() as conn:
        return conn.execute(select(Job).where(Job.id == job_id)).one()


def deps(engine: Engine, job_id: int) -> list[int]:
    """The jobs ``job_id`` depends on."""
    with engine.connect() as conn:
        return jobs.dependencies_of(conn, [job_id])[job_id]


def drive(protocol: Protocol, company: NewCompany, qb: QuickBooksEmulator, *, runs: int = 3) -> list[list[str]]:
    """Run Web Connector sessions against ``qb`` until no work is left; the requestIDs of each message."""
    messages: list[list[str]] = []
    for _ in range(runs):
        ticket, status = protocol.authenticate(company.username, company.token)[:2]
        if status == "none" or not ticket:
            break
        qb.open_session()
        hcp = qb.hcp_response()
        while True:
            request = protocol.send_request_xml(ticket, hcp, "", "US", 13, 0)
            hcp = ""
            if not request:
                break
            messages.append(_request_ids(request))
            if protocol.receive_response_xml(ticket, qb.process_request(request), "", "") >= 100:
                break
        protocol.close_connection(ticket)
        qb.close_session()
    return messages


def _request_ids(document: str) -> list[str]:
    from lxml import etree

    return [str(r.get("requestID")) for r in etree.fromstring(document.encode()).find("QBXMLMsgsRq")]


def test_a_chain_goes_out_in_one_message_and_is_applied_in_order(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """Customer, item, invoice and payment (naming the invoice's customer by job) go in ONE message, in order."""
    customer = enqueue(engine, "customer_add", CUSTOMER)
    item = enqueue(engine, "item_service_add", ITEM)
    inv = enqueue(engine, "invoice_add", invoice("I-1"))
    paying = {"customer_ref": {"job": customer}, "ref_number": "P-1", "total_amount": "80.00", "is_auto_apply": True}
    payment = enqueue(engine, "payment_add", paying, depends_on=inv)
    assert deps(engine, inv) == [customer, item]  # implicit: its refs by name
    assert deps(engine, payment) == [customer, inv]
    qb = QuickBooksEmulator(CompanyFacts(name="acme"))
    assert drive(protocol, company, qb) == [[str(customer), str(item), str(inv), str(payment)]]
    assert all(job(engine, j).state == JobState.DONE for j in (customer, item, inv, payment))
    (paid,) = qb.records("ReceivePayment")
    assert paid["CustomerRef"]["FullName"] == "Acme" and paid["TotalAmount"] == "80.00"
    assert "<FullName>Acme</FullName>" in (last_xml(engine, payment)[0] or "")


def test_a_payment_pays_the_invoice_job_it_names(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """applied_to.txn_id = {"job": N} becomes that invoice's TxnID at send, and QuickBooks applies it there."""
    enqueue(engine, "customer_add", CUSTOMER)
    enqueue(engine, "item_service_add", ITEM)
    first = enqueue(engine, "invoice_add", invoice("I-1", quantity=1))
    second = enqueue(engine, "invoice_add", invoice("I-2", quantity=3))
    applied = [{"txn_id": {"job": second}, "payment_amount": "120.00"}]
    paying = {
        "customer_ref": {"full_name": "Acme"},
        "ref_number": "P-2",
        "total_amount": "120.00",
        "applied_to": applied,
    }
    payment = enqueue(engine, "payment_add", paying)
    with engine.connect() as conn:
        stored = conn.execute(select(Job.payload).where(Job.id == payment)).scalar_one()
    assert stored["applied_to"][0]["txn_id"] == {"job": second}
    qb = QuickBooksEmulator(CompanyFacts(name="acme"))
    messages = drive(protocol, company, qb)
    assert len(messages) == 2 and messages[1] == [str(payment)]  # the TxnID is known once the invoice is done
    txn_id = job(engine, second).result["TxnID"]
    (paid,) = qb.records("ReceivePayment")
    applied = paid["AppliedToTxnRet"]
    applied = applied if isinstance(applied, dict) else applied[0]
    assert applied["TxnID"] == txn_id and Decimal(applied["Amount"]) == Decimal("120.00")
    assert txn_id != job(engine, first).result["TxnID"]


def test_a_ref_to_a_job_that_recorded_no_id_fails_naming_it(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """A txn_id ref to a job whose result has no TxnID (a customer) fails the dependent, naming that job."""
    customer = enqueue(engine, "customer_add", CUSTOMER)
    payment = enqueue(engine, "payment_add", {"customer_ref": {"full_name": "Acme"}, "total_amount": "1.00",
                                              "applied_to": [{"txn_id": {"job": customer}}]})  # fmt: skip
    drive(protocol, company, QuickBooksEmulator(CompanyFacts(name="acme")))
    failed = job(engine, payment)
    assert failed.state == JobState.FAILED
    assert f"applied_to.0.txn_id: job {customer}, which this one refers to, recorded no TxnID" in failed.error


def test_refs_to_unknown_jobs_are_refused_and_other_fields_still_checked(engine: Engine, company: NewCompany) -> None:
    """A {"job": N} of no job of the company is refused naming the field, and nothing is queued."""
    with pytest.raises(PayloadError) as refused:
        enqueue(engine, "invoice_add", invoice("I-9", customer={"job": 999}), depends_on=[998])
    assert refused.value.errors == ["depends_on: job 998 is not a job of this company",
                                    "customer_ref: job 999 is not a job of this company"]  # fmt: skip
    with pytest.raises(PayloadError) as bad:
        enqueue(engine, "invoice_add", {**invoice("I-9", customer={"job": 1}), "ref_number": "x" * 12})
    assert [e.split(":")[0] for e in bad.value.errors] == ["ref_number"]
    with engine.connect() as conn:
        assert conn.execute(select(Job.id)).first() is None


def test_one_failed_dependency_fails_its_dependents_and_a_retry_releases_them(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """A job on two dependencies fails naming the one that failed; retrying that one puts it back in the queue."""
    good = enqueue(
        engine, "qbxml", {"request": "<CustomerAddRq><CustomerAdd><Name>G</Name></CustomerAdd></CustomerAddRq>"}
    )
    bad = enqueue(
        engine, "qbxml", {"request": "<CustomerAddRq><CustomerAdd><Name>B</Name></CustomerAdd></CustomerAddRq>"}
    )
    both = enqueue(engine, "customer_add", {"name": "Both"}, depends_on=[good, bad])
    later = enqueue(engine, "customer_add", {"name": "Later"}, depends_on=both)
    ticket = protocol.authenticate(company.username, company.token)[0]
    sent = _request_ids(protocol.send_request_xml(ticket, "", "", "US", 13, 0))
    assert sent == [str(good), str(bad), str(both), str(later)]
    answer = response_doc(rs(str(good)), rs(str(bad), 3090, message="bad name"), rs(str(both), 3140),
                          rs(str(later), 3140))  # fmt: skip
    protocol.receive_response_xml(ticket, answer, "", "")
    assert job(engine, good).state == JobState.DONE
    assert job(engine, both).state == JobState.FAILED
    assert job(engine, both).error.startswith(jobs.dependency_failed(bad))
    assert job(engine, later).state == JobState.FAILED
    assert job(engine, later).error.startswith(jobs.dependency_failed(both))
    with engine.begin() as conn:
        jobs.retry(conn, bad, actor="test")
    assert [job(engine, j).state for j in (bad, both, later)] == [JobState.QUEUED] * 3
    assert job(engine, both).error is None


def test_a_dependency_failing_before_it_is_sent_fails_its_queued_dependents(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """A dependency that cannot be built fails at send, and its dependent waiting in the queue fails naming it."""
    parent = enqueue(engine, "sales_tax_code_add", {"name": "Zer", "is_taxable": False})  # needs qbXML 7.0
    child = enqueue(engine, "customer_add", {"name": "C"}, depends_on=[parent])
    ticket = protocol.authenticate(company.username, company.token)[0]
    assert protocol.send_request_xml(ticket, "", "", "US", 6, 0) == ""
    assert job(engine, parent).state == JobState.FAILED
    failed = job(engine, child)
    assert failed.state == JobState.FAILED and failed.error == jobs.dependency_failed(parent)


def test_a_dependency_failing_in_the_message_fails_its_dependent_without_3140(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """An item the emulator refuses fails the invoice sent after it with a sentence naming the item, not 3140."""
    customer = enqueue(engine, "customer_add", CUSTOMER)
    broken = {**ITEM, "sales_or_purchase": {**ITEM["sales_or_purchase"], "account_ref": {"full_name": "No such"}}}
    item = enqueue(engine, "item_service_add", broken)
    inv = enqueue(engine, "invoice_add", invoice("I-1"))
    qb = QuickBooksEmulator(CompanyFacts(name="acme"))
    assert drive(protocol, company, qb) == [[str(customer), str(item), str(inv)]]
    assert job(engine, customer).state == JobState.DONE and job(engine, item).state == JobState.FAILED
    failed = job(engine, inv)
    assert failed.state == JobState.FAILED and failed.status_code == 3140
    assert failed.error == f"{jobs.dependency_failed(item)} (QuickBooks answered it with status 3140)"
    assert failed.attempts == 0  # the attempt is not its own
    assert not qb.records("Invoice")


def test_implicit_dependencies_follow_names_case_insensitively_and_skip_done_jobs(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """A ref by name waits for the queued Add of that FullName (any case, Parent:Child included), not for a done one."""
    parent = enqueue(engine, "customer_add", CUSTOMER)
    child = enqueue(engine, "customer_add", {"name": "Job 1", "parent_ref": {"full_name": "ACME"}})
    assert deps(engine, child) == [parent]
    inv = enqueue(engine, "invoice_add", {"customer_ref": {"full_name": "acme:job 1"}, "lines": [{"desc": "x"}]})
    assert deps(engine, inv) == [child]
    by_id = enqueue(engine, "invoice_add", {"customer_ref": {"list_id": "80-1", "full_name": "Acme"},
                                            "lines": [{"desc": "x"}]})  # fmt: skip
    assert deps(engine, by_id) == []
    qb = QuickBooksEmulator(CompanyFacts(name="acme"))
    drive(protocol, company, qb)
    assert job(engine, inv).state == JobState.DONE
    later = enqueue(engine, "invoice_add", {"customer_ref": {"full_name": "Acme"}, "lines": [{"desc": "y"}]})
    assert deps(engine, later) == []  # the customer Add is done: nothing to wait for


def test_several_dependencies_through_the_api_and_the_cli(
    app: Flask, engine: Engine, company: NewCompany, tmp_path: Path
) -> None:
    """depends_on takes a list in the JSON API and repeated --depends-on in the CLI; both show the list."""
    a = enqueue(engine, "customer_add", {"name": "A"})
    b = enqueue(engine, "customer_add", {"name": "B"})
    with engine.begin() as conn:
        key = create_api_key(conn, "shop").key
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    posted = client.post("/api/v1/companies/acme/jobs", headers=auth,
                         json={"kind": "customer_add", "payload": {"name": "C"}, "depends_on": [a, b]})  # fmt: skip
    assert posted.status_code == 201 and posted.json["depends_on"] == [a, b]
    single = client.post("/api/v1/companies/acme/jobs", headers=auth,
                         json={"kind": "customer_add", "payload": {"name": "D"}, "depends_on": a})  # fmt: skip
    assert single.json["depends_on"] == [a]
    refused = client.post("/api/v1/companies/acme/jobs", headers=auth,
                          json={"kind": "customer_add", "payload": {"name": "E"}, "depends_on": ["x"]})  # fmt: skip
    assert refused.status_code == 400
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"name": "F"}))
    url = app.extensions["qbwc"].settings.effective_database_url
    result = CliRunner().invoke(
        main, ["--json", "enqueue", "acme", "customer_add", "--payload", str(payload), "--depends-on", str(a),
               "--depends-on", str(b)], env={"QBWC_DATABASE_URL": url}, catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)["id"]
    assert deps(engine, created) == [a, b]
    shown = client.get(f"/api/v1/jobs/{created}", headers=auth)
    assert shown.json["depends_on"] == [a, b]


def test_blocked_jobs_in_the_window_do_not_starve_ready_ones(engine: Engine, company: NewCompany) -> None:
    """A high-priority payment waiting for an invoice's TxnID fills the window; the invoice still goes, then it."""
    protocol = Protocol(engine, load_settings({"log_level": "WARNING", "batch_size": 1}, environ={}))
    enqueue(engine, "customer_add", CUSTOMER)
    inv = enqueue(engine, "invoice_add", {"customer_ref": {"full_name": "Acme"}, "lines": [{"desc": "Work"}]})
    payment = enqueue(engine, "payment_add", {"customer_ref": {"full_name": "Acme"}, "total_amount": "0.00",
                                              "applied_to": [{"txn_id": {"job": inv}}]}, priority=10)  # fmt: skip
    qb = QuickBooksEmulator(CompanyFacts(name="acme"))
    messages = drive(protocol, company, qb)
    assert messages[-2:] == [[str(inv)], [str(payment)]]
    assert job(engine, payment).state == JobState.DONE


def test_settle_leaves_a_job_that_moved_meanwhile_and_settles_the_rest(engine: Engine, company: NewCompany) -> None:
    """Of a batch of outcomes, a job no longer in flight for the ticket is left alone; the others are settled."""
    protocol = Protocol(engine, load_settings({"log_level": "WARNING"}, environ={}))
    first = enqueue(engine, "customer_add", {"name": "One"})
    second = enqueue(engine, "customer_add", {"name": "Two"})
    ticket = protocol.authenticate(company.username, company.token)[0]
    assert _request_ids(protocol.send_request_xml(ticket, "", "", "US", 13, 0)) == [str(first), str(second)]
    with engine.begin() as conn:
        jobs.release(conn, [ticket], reason="test")  # both back to the queue
        jobs.claim(conn, ticket, [(jobs.LeasedJob(first, "customer_add", {}, 1, 5, 0, None), None)])
        settled = jobs.settle(conn, ticket, [jobs.Outcome(first, JobState.DONE), jobs.Outcome(second, JobState.DONE)])
    assert settled == [first]
    assert job(engine, first).state == JobState.DONE and job(engine, second).state == JobState.QUEUED
