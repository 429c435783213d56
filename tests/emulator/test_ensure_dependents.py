"""Dependents by name ride in the same message as an ensure's Add, through the Protocol and the emulator."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobState
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator import QuickBooksEmulator
from tests.emulator.conftest import needs_spec
from tests.emulator.driver import Session, seed

pytestmark = needs_spec


@pytest.fixture
def qb() -> QuickBooksEmulator:
    """An emulated US company with an income account and a 25.00 service item ``Work``."""
    emulator = QuickBooksEmulator()
    seed(emulator, "account_add", {"name": "Sales", "account_type": "Income"})
    sales = {"price": "25.00", "account_ref": {"full_name": "Sales"}}
    seed(emulator, "item_service_add", {"name": "Work", "sales_or_purchase": sales})
    return emulator


def enqueue(engine: Engine, kind: str, payload: dict[str, Any]) -> int:
    """Queue a job for the company ``acme``; its id."""
    with engine.begin() as conn:
        return jobs.enqueue(conn, "acme", kind, payload).job_id


def rows(engine: Engine, ids: list[int]) -> list[Any]:
    """The jobs' rows, in the order of ``ids``."""
    with engine.connect() as conn:
        found = {r.id: r for r in conn.execute(select(Job).where(Job.id.in_(ids)))}
    return [found[i] for i in ids]


def customer_and_invoice(engine: Engine, name: str, parent: str | None = None) -> tuple[int, int]:
    """A ``customer_ensure`` for ``name`` (under ``parent``) and an invoice naming it by ``{"job": N}``."""
    fields: dict[str, Any] = {"name": name} | ({"parent_ref": {"full_name": parent}} if parent else {})
    customer = enqueue(engine, "customer_ensure", fields)
    invoice = {"customer_ref": {"job": customer}, "lines": [{"item_ref": {"full_name": "Work"}, "quantity": "2"}]}
    return customer, enqueue(engine, "invoice_add", invoice)


def test_ten_new_customers_and_their_invoices_drain_in_two_round_trips(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """The lookups go first; each Add then carries its invoice after it in the second message; nothing doubled."""
    pairs = [customer_and_invoice(engine, f"New Customer {n}") for n in range(10)]
    session = Session(protocol, company, qb)
    session.run()
    assert len(session.percentages) == 2 and session.percentages[-1] == 100
    tags = [str(r.tag) for r in session.sent]
    assert tags == ["CustomerQueryRq"] * 10 + ["CustomerAddRq", "InvoiceAddRq"] * 10
    customers, invoices = rows(engine, [c for c, _ in pairs]), rows(engine, [i for _, i in pairs])
    assert all(r.state == JobState.DONE for r in customers + invoices), [r.error for r in customers + invoices]
    assert sorted(c["Name"] for c in qb.records("Customer")) == sorted(f"New Customer {n}" for n in range(10))
    assert len(qb.records("Invoice")) == 10 and qb.duplicates() == []
    for customer, invoice in zip(customers, qb.records("Invoice"), strict=True):
        assert invoice["CustomerRef"]["ListID"] == customer.result["ListID"]


def test_an_ensure_add_refused_fails_the_invoice_behind_it_naming_it(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """An Add QuickBooks refuses (its parent is missing) fails; the invoice read after it fails, put down to it."""
    customer, invoice = customer_and_invoice(engine, "Job 1", parent="No Such Parent")
    good_customer, good_invoice = customer_and_invoice(engine, "Good Name")
    Session(protocol, company, qb).run()
    ensure, dependent, good, good_dependent = rows(engine, [customer, invoice, good_customer, good_invoice])
    assert ensure.state == JobState.FAILED and "3140" in ensure.error and "No Such Parent" in ensure.error
    assert dependent.state == JobState.FAILED
    assert dependent.error == (
        f"job {customer}, which it depends on, failed; retry that one first (QuickBooks answered it with status 3140)"
    )
    assert (good.state, good_dependent.state) == (JobState.DONE, JobState.DONE)
    assert [c["Name"] for c in qb.records("Customer")] == ["Good Name"]
    assert len(qb.records("Invoice")) == 1


def test_a_customer_added_meanwhile_is_adopted_and_its_invoice_goes_in_the_same_message(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """The Add answered 3100 means the name exists: the invoice behind it is entered, and the ensure adopts it."""
    customer, invoice = customer_and_invoice(engine, "Zoë's Garage")
    session = Session(protocol, company, qb)
    session.round_trip()  # the lookup: not there
    existing = seed(qb, "customer_add", {"name": "Zoë's Garage"})  # a person adds it in QuickBooks meanwhile
    session.run()
    ensure, dependent = rows(engine, [customer, invoice])
    assert (ensure.state, dependent.state) == (JobState.DONE, JobState.DONE), (ensure.error, dependent.error)
    assert ensure.result["ListID"] == existing["ListID"]
    assert [str(r.tag) for r in session.sent] == ["CustomerQueryRq", "CustomerAddRq", "InvoiceAddRq", "CustomerQueryRq"]
    assert len(qb.records("Customer")) == 1
    (entered,) = qb.records("Invoice")
    assert entered["CustomerRef"]["ListID"] == existing["ListID"]


def test_a_name_taken_by_a_vendor_sends_the_invoice_back_then_fails_it_with_the_ensure(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """A 3100 from a vendor of that name: the invoice's 3140 waits for the ensure, which fails, and it fails with it."""
    seed(qb, "vendor_add", {"name": "Shared Name"})
    customer, invoice = customer_and_invoice(engine, "Shared Name")
    Session(protocol, company, qb).run()
    ensure, dependent = rows(engine, [customer, invoice])
    assert ensure.state == JobState.FAILED and "another kind of list entry" in ensure.error
    assert dependent.state == JobState.FAILED
    assert dependent.error == f"job {customer}, which it depends on, failed; retry that one first"
    assert qb.records("Customer") == [] and qb.records("Invoice") == []
