"""Multi-step jobs through the Protocol and the emulator: ensure, Mod without EditSequence, iterated query, job refs."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import Settings, load_settings
from qbwc_service.db.models import Job, JobDependency, JobEvent, JobState
from qbwc_service.errors import PayloadError
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator import QuickBooksEmulator
from tests.emulator.conftest import needs_spec
from tests.emulator.driver import Session, seed

pytestmark = needs_spec


@pytest.fixture
def settings() -> Settings:
    """Quiet settings."""
    return load_settings({"log_level": "WARNING"}, environ={})


@pytest.fixture
def protocol(engine: Engine, settings: Settings) -> Protocol:
    """The QBWC operations on the test database."""
    return Protocol(engine, settings)


@pytest.fixture
def qb() -> QuickBooksEmulator:
    """An emulated US company with sales tax turned on."""
    return QuickBooksEmulator()


def enqueue(engine: Engine, kind: str, payload: dict[str, Any]) -> int:
    with engine.begin() as conn:
        return jobs.enqueue(conn, "acme", kind, payload).job_id


def job(engine: Engine, job_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Job).where(Job.id == job_id)).one()


def history(engine: Engine, job_id: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(JobEvent.message, JobEvent.request_xml, JobEvent.response_xml)
                .where(JobEvent.job_id == job_id).order_by(JobEvent.id)
            )
        )  # fmt: skip


def requests_of(engine: Engine, job_id: int) -> list[etree._Element]:
    """The request of each step the job was sent as, in order."""
    return [etree.fromstring(e.request_xml) for e in history(engine, job_id) if e.request_xml]


def messages(engine: Engine, job_id: int) -> str:
    return "\n".join(e.message or "" for e in history(engine, job_id))


# -- ensure ---------------------------------------------------------------------------------


def test_ensure_found_the_same_is_done_with_the_existing_list_id(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """An account already there with the same type is adopted after one query, and nothing is added."""
    existing = seed(qb, "account_add", {"name": "Sales", "account_type": "Income"})
    job_id = enqueue(engine, "account_ensure", {"name": "Sales", "account_type": "Income"})
    Session(protocol, company, qb).run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE
    assert row.result["ListID"] == existing["ListID"] and "warnings" not in row.result
    assert [r.tag for r in requests_of(engine, job_id)] == ["AccountQueryRq"]
    assert len([a for a in qb.records("Account") if a["Name"] == "Sales"]) == 1
    steps = history(engine, job_id)
    assert any("AccountRet" in (e.response_xml or "") for e in steps)
    assert "is already in QuickBooks: adopted" in messages(engine, job_id)


def test_ensure_found_with_a_harmless_difference_is_done_with_a_warning(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """An account with another description is adopted; the result and the history name the difference."""
    seed(qb, "account_add", {"name": "Sales", "account_type": "Income", "desc": "Old text"})
    job_id = enqueue(engine, "account_ensure", {"name": "Sales", "account_type": "Income", "desc": "New text"})
    Session(protocol, company, qb).run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE
    assert row.result["warnings"] == ["desc is 'Old text' in QuickBooks, 'New text' in the job"]
    assert "harmless differences: desc is 'Old text'" in messages(engine, job_id)


def test_ensure_found_with_a_key_difference_fails_and_names_it(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """An account of another type fails the job; the error names the field and both values."""
    seed(qb, "account_add", {"name": "Sales", "account_type": "Bank"})
    job_id = enqueue(engine, "account_ensure", {"name": "Sales", "account_type": "Income"})
    Session(protocol, company, qb).run()
    row = job(engine, job_id)
    assert row.state == JobState.FAILED
    assert "account_type is 'Bank' in QuickBooks, 'Income' in the job" in row.error
    assert row.error in messages(engine, job_id)


def test_ensure_of_an_item_found_as_another_item_type_fails(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """A service item ensured where a non-inventory item of that name exists fails: another type."""
    seed(qb, "account_add", {"name": "Sales", "account_type": "Income"})
    sales = {"sales_or_purchase": {"price": "10.00", "account_ref": {"full_name": "Sales"}}}
    seed(qb, "item_non_inventory_add", {"name": "Labor", **sales})
    job_id = enqueue(engine, "item_service_ensure", {"name": "Labor", **sales})
    Session(protocol, company, qb).run()
    row = job(engine, job_id)
    assert row.state == JobState.FAILED
    assert "another type (ItemNonInventory, not ItemService)" in row.error


def test_ensure_missing_sends_the_add_in_the_same_session(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """A customer not in QuickBooks is queried, then added: two steps, each in the history with its request."""
    job_id = enqueue(engine, "customer_ensure", {"name": "Zoë's Garage", "company_name": "Zoë's"})
    session = Session(protocol, company, qb)
    session.run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE and (row.step, row.attempts) == (1, 1)
    found = qb.find("Customer", "Zoë's Garage")
    assert found is not None and row.result["ListID"] == found["ListID"]
    assert [r.tag for r in requests_of(engine, job_id)] == ["CustomerQueryRq", "CustomerAddRq"]
    assert [r.get("requestID") for r in session.sent] == [str(job_id), f"{job_id}.1"]
    text = messages(engine, job_id)
    assert "is not in QuickBooks: adding it" in text and "added" in text


def test_ensure_add_answered_3100_is_queried_again_and_adopted(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """Someone adds the customer between the query and the Add: the 3100 is followed by a query, then adoption."""
    job_id = enqueue(engine, "customer_ensure", {"name": "Zoë's Garage", "email": "z@example.com"})
    session = Session(protocol, company, qb)
    assert session.round_trip() is not None  # the query: not there
    theirs = seed(qb, "customer_add", {"name": "Zoë's Garage", "email": "zoe@example.com"})
    session.run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE and row.result["ListID"] == theirs["ListID"]
    assert row.result["warnings"] == ["email is 'zoe@example.com' in QuickBooks, 'z@example.com' in the job"]
    assert [r.tag for r in requests_of(engine, job_id)] == ["CustomerQueryRq", "CustomerAddRq", "CustomerQueryRq"]
    assert "status 3100" in messages(engine, job_id)
    assert len(qb.records("Customer")) == 1


# -- Mod without an EditSequence -------------------------------------------------------------


def test_mod_without_edit_sequence_reads_it_then_sends_the_change(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """A customer_mod without edit_sequence queries the record by ListID, then sends the Mod with its EditSequence."""
    existing = seed(qb, "customer_add", {"name": "Zoë"})
    job_id = enqueue(engine, "customer_mod", {"list_id": existing["ListID"], "company_name": "Zoë Ltd"})
    Session(protocol, company, qb).run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE
    sent = requests_of(engine, job_id)
    assert [r.tag for r in sent] == ["CustomerQueryRq", "CustomerModRq"]
    assert sent[1].findtext("CustomerMod/EditSequence") == existing["EditSequence"]
    assert qb.find("Customer", "Zoë")["CompanyName"] == "Zoë Ltd"  # type: ignore[index]


def _bump(qb: QuickBooksEmulator, list_id: str) -> None:
    """Someone changes the customer in QuickBooks: its EditSequence moves on."""
    current = next(c for c in qb.records("Customer") if c["ListID"] == list_id)
    seed(qb, "customer_mod", {"list_id": list_id, "edit_sequence": current["EditSequence"], "notes": "touched"})


def test_mod_answered_3200_is_sent_again_with_the_current_edit_sequence(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """The record changes between the read and the Mod: the 3200 answer's EditSequence is used to resend."""
    existing = seed(qb, "customer_add", {"name": "Zoë"})
    job_id = enqueue(engine, "customer_mod", {"list_id": existing["ListID"], "company_name": "Zoë Ltd"})
    session = Session(protocol, company, qb)
    session.round_trip()  # the query
    _bump(qb, existing["ListID"])
    session.run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE
    assert [r.tag for r in requests_of(engine, job_id)] == ["CustomerQueryRq", "CustomerModRq", "CustomerModRq"]
    assert "status 3200" in messages(engine, job_id)
    assert qb.find("Customer", "Zoë")["CompanyName"] == "Zoë Ltd"  # type: ignore[index]


def test_mod_answered_3200_every_time_fails_after_a_bounded_number_of_tries(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """A record changed before every resend fails the job after three Mods, with a sentence."""
    existing = seed(qb, "customer_add", {"name": "Zoë"})
    job_id = enqueue(engine, "customer_mod", {"list_id": existing["ListID"], "company_name": "Zoë Ltd"})
    session = Session(protocol, company, qb)
    session.round_trip()
    for _ in range(10):
        _bump(qb, existing["ListID"])
        if session.round_trip() in (None, 100):
            break
    session.close()
    row = job(engine, job_id)
    assert row.state == JobState.FAILED
    assert "was changed in QuickBooks each of the 3 times" in row.error
    assert [r.tag for r in requests_of(engine, job_id)].count("CustomerModRq") == 3


# -- iterated queries --------------------------------------------------------------------------


NAMES = [f"Customer {n:02d}" for n in range(1, 13)]


@pytest.fixture
def twelve(qb: QuickBooksEmulator) -> list[str]:
    """Twelve customers, created in name order."""
    for name in NAMES:
        seed(qb, "customer_add", {"name": name})
    return NAMES


def test_an_iterated_query_pages_through_the_answer_in_one_session(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator, twelve: list[str]
) -> None:
    """Start, then Continue with the iteratorID until none remain: every record once, the percentage moving per page."""
    job_id = enqueue(engine, "customer_query", {"iterate": True, "max_returned": 5})
    session = Session(protocol, company, qb)
    session.run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE
    assert row.result["count"] == 12 and [r["FullName"] for r in row.result["records"]] == twelve
    assert row.progress is None  # the pages collected between steps are in the result now
    sent = requests_of(engine, job_id)
    assert [r.get("iterator") for r in sent] == ["Start", "Continue", "Continue"]
    assert sent[1].get("iteratorID") and sent[1].get("iteratorID") == sent[2].get("iteratorID")
    assert {r.findtext("MaxReturned") for r in sent} == {"5"}
    first, second, last = session.percentages
    assert 0 < first < second < 100 and last == 100
    assert session.summary == "qbwc-service: 1 done, 0 failed."  # pages are steps, not retries
    assert "page 2: 5 records, 2 to come" in messages(engine, job_id)


def test_the_page_size_defaults_to_the_setting(
    engine: Engine, company: NewCompany, qb: QuickBooksEmulator, twelve: list[str]
) -> None:
    """Without max_returned, QBWC_ITERATOR_PAGE sets MaxReturned."""
    protocol = Protocol(engine, load_settings({"log_level": "WARNING", "iterator_page": 7}, environ={}))
    job_id = enqueue(engine, "customer_query", {"iterate": True})
    Session(protocol, company, qb).run()
    assert [r.findtext("MaxReturned") for r in requests_of(engine, job_id)] == ["7", "7"]
    assert job(engine, job_id).result["count"] == 12


def test_a_session_ending_mid_iteration_restarts_after_the_last_name_next_session(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator, twelve: list[str]
) -> None:
    """The iterator dies with the session; the next one starts again after the last name, with no duplicate."""
    job_id = enqueue(engine, "customer_query", {"iterate": True, "max_returned": 5})
    first = Session(protocol, company, qb)
    assert first.round_trip() is not None
    first.close()
    assert job(engine, job_id).state == JobState.QUEUED
    Session(protocol, company, qb).run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE
    assert [r["FullName"] for r in row.result["records"]] == twelve
    restart = requests_of(engine, job_id)[1]
    assert restart.get("iterator") == "Start"
    assert restart.findtext("NameRangeFilter/FromName") == "Customer 05"


def test_an_iteration_whose_reply_was_lost_restarts_without_duplicates(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator, twelve: list[str]
) -> None:
    """A page in flight when the session ends is asked for again next session; the result holds each record once."""
    job_id = enqueue(engine, "customer_query", {"iterate": True, "max_returned": 5})
    first = Session(protocol, company, qb)
    first.round_trip()
    assert first.send()  # the second page goes out, its reply is lost
    first.close()
    Session(protocol, company, qb).run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE
    assert [r["FullName"] for r in row.result["records"]] == twelve


def test_below_qbxml_5_an_iterated_query_pages_by_name(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator, twelve: list[str]
) -> None:
    """QuickBooks speaking qbXML 4.0 has no iterators: pages go by NameRangeFilter, MaxReturned at a time."""
    job_id = enqueue(engine, "customer_query", {"iterate": True, "max_returned": 5})
    Session(protocol, company, qb, major=4, minor=0).run()
    row = job(engine, job_id)
    assert row.state == JobState.DONE
    assert [r["FullName"] for r in row.result["records"]] == twelve
    sent = requests_of(engine, job_id)
    assert all(r.get("iterator") is None for r in sent)
    assert [r.findtext("NameRangeFilter/FromName") for r in sent][:3] == [None, "Customer 05", "Customer 09"]


# -- a worker killed between steps -----------------------------------------------------------


def test_a_new_worker_for_every_call_loses_nothing_between_steps(
    engine: Engine, settings: Settings, company: NewCompany, qb: QuickBooksEmulator, twelve: list[str]
) -> None:
    """Every SOAP call answered by a fresh Protocol (a worker killed and restarted): ensure, Mod and pages finish."""
    existing = qb.find("Customer", "Customer 01")
    assert existing is not None
    ensure = enqueue(engine, "customer_ensure", {"name": "Zoë"})
    mod = enqueue(engine, "customer_mod", {"list_id": existing["ListID"], "company_name": "One"})
    pages = enqueue(engine, "customer_query", {"iterate": True, "max_returned": 4})
    Session(lambda: Protocol(engine, settings), company, qb).run()
    assert job(engine, ensure).state == JobState.DONE and qb.find("Customer", "Zoë") is not None
    assert job(engine, mod).state == JobState.DONE
    assert qb.find("Customer", "Customer 01")["CompanyName"] == "One"  # type: ignore[index]
    result = job(engine, pages).result
    assert result["count"] == len({r["ListID"] for r in result["records"]}) >= 12


# -- {"job": N} refs in ensure kinds and Mods ------------------------------------------------

AGENCY = {"name": "State Board"}


def edges(engine: Engine, job_id: int) -> list[tuple[int, bool]]:
    """The job's dependency edges: (the job it waits for, whether its payload names it)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(JobDependency.depends_on_id, JobDependency.ref).where(JobDependency.job_id == job_id)
        )
        return sorted((r.depends_on_id, r.ref) for r in rows)


def tax_item(vendor_job: int, rate: str = "7.5") -> dict[str, Any]:
    return {"name": "CA Tax", "tax_rate": rate, "tax_vendor_ref": {"job": vendor_job}}


def run_setup(engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator,
              vendor: dict[str, Any], rate: str = "7.5") -> tuple[Any, Any]:  # fmt: skip
    """Queue a vendor_ensure and a sales_tax_item_ensure naming it by job, run one session; both rows."""
    vendor_job = enqueue(engine, "vendor_ensure", vendor)
    item_job = enqueue(engine, "sales_tax_item_ensure", tax_item(vendor_job, rate))
    assert edges(engine, item_job) == [(vendor_job, True)]
    assert job(engine, item_job).payload["tax_vendor_ref"] == {"job": vendor_job}
    Session(protocol, company, qb).run()
    return job(engine, vendor_job), job(engine, item_job)


def test_a_sales_tax_item_ensure_naming_its_agency_by_job_creates_both_then_adopts_both(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """The item's TaxVendorRef is the agency ensured before it; a second run adopts both, the ref compared by ListID."""
    vendor, item = run_setup(engine, company, protocol, qb, AGENCY)
    assert (vendor.state, item.state) == (JobState.DONE, JobState.DONE), (vendor.error, item.error)
    created = qb.find("ItemSalesTax", "CA Tax")
    assert created is not None
    assert created["TaxVendorRef"]["ListID"] == vendor.result["ListID"]
    assert item.result["ListID"] == created["ListID"]

    again_vendor, again_item = run_setup(engine, company, protocol, qb, AGENCY)
    assert (again_vendor.state, again_item.state) == (JobState.DONE, JobState.DONE), again_item.error
    assert again_vendor.result["ListID"] == vendor.result["ListID"]
    assert again_item.result["ListID"] == item.result["ListID"] and "warnings" not in again_item.result
    assert [r["Name"] for r in qb.records("ItemSalesTax")].count("CA Tax") == 1
    assert [r["Name"] for r in qb.records("Vendor")].count("State Board") == 1


def test_an_ensure_whose_job_ref_names_another_agency_fails_on_the_key_field(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """The tax item exists paying one agency; the job names another agency's job: a key difference, by ListID."""
    first, _ = run_setup(engine, company, protocol, qb, AGENCY)
    other, item = run_setup(engine, company, protocol, qb, {"name": "County Office"})
    assert other.state == JobState.DONE and item.state == JobState.FAILED
    assert (
        f"tax_vendor_ref is {first.result['ListID']!r} in QuickBooks, {other.result['ListID']!r} in the job"
        in item.error
    )


def test_an_item_ensure_with_its_account_given_by_job_posts_to_that_account(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """item_service_ensure's account_ref names an account_ensure job: the item is added posting to that account."""
    account = enqueue(engine, "account_ensure", {"name": "Labour Income", "account_type": "Income"})
    sales = {"price": "40.00", "account_ref": {"job": account}}
    item = enqueue(engine, "item_service_ensure", {"name": "Labour", "sales_or_purchase": sales})
    assert edges(engine, item) == [(account, True)]
    Session(protocol, company, qb).run()
    account_row, item_row = job(engine, account), job(engine, item)
    assert (account_row.state, item_row.state) == (JobState.DONE, JobState.DONE), item_row.error
    found = qb.find("ItemService", "Labour")
    assert found is not None
    assert found["SalesOrPurchase"]["AccountRef"]["ListID"] == account_row.result["ListID"]


def test_a_customer_mod_without_edit_sequence_names_the_customer_and_its_parent_by_job(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """customer_mod of the customer a job added, moved under the parent another job added: read, then changed."""
    parent = enqueue(engine, "customer_add", {"name": "Acme"})
    child = enqueue(engine, "customer_add", {"name": "Shop"})
    mod = enqueue(engine, "customer_mod", {"list_id": {"job": child}, "parent_ref": {"job": parent}})
    assert edges(engine, mod) == [(parent, True), (child, True)]
    Session(protocol, company, qb).run()
    row = job(engine, mod)
    assert row.state == JobState.DONE, row.error
    moved = qb.find("Customer", "Acme:Shop")
    assert moved is not None and moved["ListID"] == job(engine, child).result["ListID"]
    assert moved["ParentRef"]["ListID"] == job(engine, parent).result["ListID"]


def test_an_invoice_mod_without_edit_sequence_names_the_invoice_and_its_new_customer_by_job(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """invoice_mod's txn_id and customer_ref are jobs: the invoice that job entered now bills the other customer."""
    seed(qb, "customer_add", {"name": "Acme"})
    seed(qb, "item_service_add", {"name": "Labour", "sales_or_purchase": {"price": "40.00"}})
    lines = [{"item_ref": {"full_name": "Labour"}, "quantity": "1"}]
    invoice = enqueue(engine, "invoice_add", {"customer_ref": {"full_name": "Acme"}, "ref_number": "1", "lines": lines})
    other = enqueue(engine, "customer_add", {"name": "Bodega"})
    mod = enqueue(engine, "invoice_mod", {"txn_id": {"job": invoice}, "customer_ref": {"job": other}, "memo": "moved"})
    Session(protocol, company, qb).run()
    row = job(engine, mod)
    assert row.state == JobState.DONE, row.error
    (entered,) = qb.records("Invoice")
    assert entered["TxnID"] == job(engine, invoice).result["TxnID"]
    assert entered["CustomerRef"]["ListID"] == job(engine, other).result["ListID"]
    assert entered["Memo"] == "moved"


def test_an_ensure_refuses_a_parent_given_by_job(engine: Engine, company: NewCompany) -> None:
    """An ensure looks the entry up by its full name, so a parent by job is refused with a sentence."""
    parent = enqueue(engine, "customer_ensure", {"name": "Acme"})
    with pytest.raises(PayloadError) as refused:
        enqueue(engine, "customer_ensure", {"name": "Shop", "parent_ref": {"job": parent}})
    assert refused.value.errors[0].startswith("parent_ref: give the parent's full_name")
    assert "a job's ref gives its ListID only" in refused.value.errors[0]
