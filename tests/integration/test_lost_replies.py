"""Lost replies: a requeued Add is looked up in QuickBooks before it is sent again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lxml import etree
from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobEvent, JobState, utcnow
from qbwc_service.qbwc import sessions
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from tests.helpers import customer_add, customer_ret, response_doc, rs, send, start

INVOICE = {"customer_ref": {"full_name": "Zoë's Garage"}, "ref_number": "INV-1001", "lines": [{"desc": "Brakes"}]}
LOST = "The reply to this request was lost and QuickBooks may already have it"


def invoice_ret(txn_id: str, customer: str, ref_number: str = "INV-1001") -> str:
    """An InvoiceRet for ``customer`` with the identifiers a job records."""
    return (
        f"<InvoiceRet><TxnID>{txn_id}</TxnID><EditSequence>17</EditSequence>"
        f"<CustomerRef><ListID>80000001-1</ListID><FullName>{customer}</FullName></CustomerRef>"
        f"<RefNumber>{ref_number}</RefNumber></InvoiceRet>"
    )


def enqueue(engine: Engine, kind: str, payload: dict[str, Any], **kwargs: Any) -> int:
    with engine.begin() as conn:
        return jobs.enqueue(conn, "acme", kind, payload, **kwargs).job_id


def lose_reply(protocol: Protocol, company: NewCompany) -> list[etree._Element]:
    """One run whose reply never comes back: QBWC closes the session with the jobs in flight."""
    ticket = start(protocol, company)
    sent = send(protocol, ticket)
    protocol.close_connection(ticket)
    return sent


def row(engine: Engine, job_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Job).where(Job.id == job_id)).one()


def last_message(engine: Engine, job_id: int) -> str:
    with engine.connect() as conn:
        found = conn.execute(
            select(JobEvent.message).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
        ).first()
    assert found is not None
    return str(found.message)


def test_released_jobs_are_marked_for_verification(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """Jobs requeued by closeConnection or a quiet session carry progress verify=true and say why."""
    first = enqueue(engine, "customer_add", {"name": "Zoë's Garage"})
    lose_reply(protocol, company)
    assert (row(engine, first).state, row(engine, first).progress) == (JobState.QUEUED, {"verify": True})
    assert "may or may not have applied" in last_message(engine, first)
    second = enqueue(engine, "customer_add", {"name": "Bob's Garage"}, priority=5)
    ticket = start(protocol, company)
    send(protocol, ticket)
    with engine.begin() as conn:
        sessions.requeue_stalled(conn, timeout=timedelta(seconds=1), now=utcnow() + timedelta(seconds=5))
    assert row(engine, second).progress == {"verify": True}


def test_refused_message_is_not_marked(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """A batch QuickBooks could not parse (0x80040400) applied nothing, so its jobs are not marked."""
    ids = [enqueue(engine, "customer_add", {"name": n}) for n in ("A", "B")]
    ticket = start(protocol, company)
    send(protocol, ticket)
    protocol.receive_response_xml(ticket, "", "0x80040400", "QuickBooks found an error when parsing")
    assert [row(engine, i).progress for i in ids] == [None, None]


def test_message_that_failed_in_quickbooks_is_marked(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """Any other hresult may come after part of the message was applied: requeued jobs are looked up first."""
    ids = [enqueue(engine, "customer_add", {"name": n}) for n in ("A", "B")]
    ticket = start(protocol, company)
    send(protocol, ticket)
    assert protocol.receive_response_xml(ticket, "", "0x80040422", "QuickBooks stopped responding") == -1
    assert [(row(engine, i).state, row(engine, i).progress) for i in ids] == [(JobState.QUEUED, {"verify": True})] * 2
    assert "looked up before it goes again" in last_message(engine, ids[0])
    protocol.close_connection(ticket)
    with engine.begin() as conn:  # the back-off has passed
        conn.execute(Job.__table__.update().values(not_before=None))
    ticket = start(protocol, company)
    assert [r.tag for r in send(protocol, ticket)] == ["CustomerQueryRq", "CustomerQueryRq"]


def test_typed_customer_add_is_looked_up_by_full_name(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """A requeued sub-customer add is sent as a CustomerQueryRq for Parent:Name under requestID id.1."""
    job_id = enqueue(engine, "customer_add", {"name": "Brakes", "parent_ref": {"full_name": "Zoë's Garage"}})
    lose_reply(protocol, company)
    (query,) = lose_reply(protocol, company)
    assert query.tag == "CustomerQueryRq" and query.get("requestID") == f"{job_id}.1"
    assert [c.findtext(".") for c in query.iter("FullName")] == ["Zoë's Garage:Brakes"]
    assert row(engine, job_id).progress == {"verify": True}
    (again,) = lose_reply(protocol, company)
    assert again.tag == "CustomerQueryRq" and again.get("requestID") == f"{job_id}.2"


def test_raw_customer_add_is_looked_up_by_full_name(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """A requeued raw CustomerAddRq is sent as a CustomerQueryRq for its Name."""
    job_id = enqueue(engine, "qbxml", {"request": customer_add("Bob's Garage")})
    lose_reply(protocol, company)
    ticket = start(protocol, company)
    (query,) = send(protocol, ticket)
    assert query.tag == "CustomerQueryRq" and query.findtext("FullName") == "Bob's Garage"
    assert query.get("requestID") == f"{job_id}.1"


def test_found_customer_is_adopted_and_its_invoice_follows(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """A customer QuickBooks already holds ends done with its ListID; the invoice lost with it is looked up next."""
    customer = enqueue(engine, "customer_add", {"name": "Zoë's Garage"})
    invoice = enqueue(engine, "invoice_add", INVOICE, depends_on=customer)
    lose_reply(protocol, company)
    ticket = start(protocol, company)
    (query,) = send(protocol, ticket)
    answer = rs(query.get("requestID"), name="CustomerQueryRs", ret=customer_ret("80000001-1", "Zoë's Garage"))
    assert protocol.receive_response_xml(ticket, response_doc(answer), "", "") < 100
    done = row(engine, customer)
    assert done.state == JobState.DONE and done.result["ListID"] == "80000001-1" and done.progress is None
    assert done.attempts == 2
    assert last_message(engine, customer).startswith("found already in QuickBooks (ListID 80000001-1)")
    (next_rq,) = send(protocol, ticket)  # it went in the lost message too, after the customer
    assert next_rq.tag == "InvoiceQueryRq" and next_rq.get("requestID") == f"{invoice}.1"


def test_invoice_is_looked_up_by_ref_number_and_adopted(
    engine: Engine, company: NewCompany, protocol: Protocol
) -> None:
    """A requeued invoice is looked up by RefNumber; the one for its customer ends it done with that TxnID."""
    job_id = enqueue(engine, "invoice_add", INVOICE)
    lose_reply(protocol, company)
    ticket = start(protocol, company)
    (query,) = send(protocol, ticket)
    assert query.tag == "InvoiceQueryRq" and query.findtext("RefNumber") == "INV-1001"
    rets = invoice_ret("9-1", "Someone Else") + invoice_ret("1A-1", "zoë's garage")
    answer = rs(query.get("requestID"), name="InvoiceQueryRs", ret=rets)
    assert protocol.receive_response_xml(ticket, response_doc(answer), "", "") == 100
    done = row(engine, job_id)
    assert done.state == JobState.DONE and done.result["TxnID"] == "1A-1" and done.result["EditSequence"] == "17"


def test_journal_entry_with_other_debits_is_no_match(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """Journal entries share RefNumbers: the lookup reads their lines, and one with other debits is not ours."""
    entry = {
        "ref_number": "ADJ",
        "lines": [
            {"side": "debit", "account_ref": {"full_name": "Checking"}, "amount": "250.00"},
            {"side": "credit", "account_ref": {"full_name": "Services Income"}, "amount": "250.00"},
        ],
    }
    job_id = enqueue(engine, "journal_entry_add", entry)
    lose_reply(protocol, company)
    ticket = start(protocol, company)
    (query,) = send(protocol, ticket)
    assert (query.tag, query.findtext("RefNumber"), query.findtext("IncludeLineItems")) == (
        "JournalEntryQueryRq", "ADJ", "true",
    )  # fmt: skip
    other = "<JournalEntryRet><TxnID>5-1</TxnID><RefNumber>ADJ</RefNumber><JournalDebitLine><Amount>90.00</Amount>"
    other += "</JournalDebitLine></JournalEntryRet>"
    answer = rs(query.get("requestID"), name="JournalEntryQueryRs", ret=other)
    assert protocol.receive_response_xml(ticket, response_doc(answer), "", "") < 100
    assert row(engine, job_id).state == JobState.QUEUED
    (add,) = send(protocol, ticket)
    assert add.tag == "JournalEntryAddRq" and add.get("requestID") == f"{job_id}.1"


def test_invoice_of_another_customer_is_no_match(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """An invoice with the same RefNumber for another customer is not ours: the add is sent next, uncounted."""
    job_id = enqueue(engine, "invoice_add", INVOICE)
    lose_reply(protocol, company)
    ticket = start(protocol, company)
    (query,) = send(protocol, ticket)
    answer = rs(query.get("requestID"), name="InvoiceQueryRs", ret=invoice_ret("9-1", "Someone Else"))
    assert protocol.receive_response_xml(ticket, response_doc(answer), "", "") < 100
    queued = row(engine, job_id)
    assert (queued.state, queued.progress, queued.attempts, queued.not_before) == (JobState.QUEUED, None, 1, None)
    (add,) = send(protocol, ticket)
    assert add.tag == "InvoiceAddRq" and add.get("requestID") == f"{job_id}.1"


def test_no_match_sends_the_add_at_once(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """A check answered with status 1 puts the job back without back-off, and the next message carries the add."""
    job_id = enqueue(engine, "customer_add", {"name": "Zoë's Garage"})
    lose_reply(protocol, company)
    ticket = start(protocol, company)
    (query,) = send(protocol, ticket)
    answer = rs(query.get("requestID"), 1, name="CustomerQueryRs", message="A query request did not find a match")
    protocol.receive_response_xml(ticket, response_doc(answer), "", "")
    assert "not in QuickBooks" in last_message(engine, job_id)
    (add,) = send(protocol, ticket)
    assert add.tag == "CustomerAddRq" and add.findtext("CustomerAdd/Name") == "Zoë's Garage"
    protocol.receive_response_xml(
        ticket, response_doc(rs(add.get("requestID"), ret=customer_ret("80000002-1", "Zoë's Garage"))), "", ""
    )
    assert row(engine, job_id).result["ListID"] == "80000002-1"


def test_failed_check_follows_the_retry_policy(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """A check QuickBooks could not answer (3180) is retried later and stays marked for verification."""
    job_id = enqueue(engine, "customer_add", {"name": "Zoë's Garage"})
    lose_reply(protocol, company)
    ticket = start(protocol, company)
    (query,) = send(protocol, ticket)
    protocol.receive_response_xml(
        ticket, response_doc(rs(query.get("requestID"), 3180, name="CustomerQueryRs", message="busy")), "", ""
    )
    retried = row(engine, job_id)
    assert retried.state == JobState.QUEUED and retried.not_before is not None
    assert retried.progress["verify"] is True


def test_unverifiable_add_fails_with_its_dependents(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """A requeued invoice without RefNumber fails with an actionable message, and so do its dependents."""
    job_id = enqueue(engine, "invoice_add", {k: v for k, v in INVOICE.items() if k != "ref_number"})
    dependent = enqueue(engine, "customer_add", {"name": "After"}, depends_on=job_id)
    lose_reply(protocol, company)
    assert lose_reply(protocol, company) == []
    failed = row(engine, job_id)
    assert failed.state == JobState.FAILED and failed.error.startswith(LOST)
    assert failed.error.endswith("check QuickBooks, then retry or cancel this job")
    assert last_message(engine, job_id) == failed.error
    assert row(engine, dependent).state == JobState.FAILED


def test_manual_retry_clears_the_mark(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """A job retried by hand after failing while marked is sent as its add again."""
    job_id = enqueue(engine, "invoice_add", {k: v for k, v in INVOICE.items() if k != "ref_number"})
    lose_reply(protocol, company)
    assert lose_reply(protocol, company) == []
    with engine.begin() as conn:
        jobs.retry(conn, job_id, actor="support")
    assert (row(engine, job_id).progress, row(engine, job_id).step) == (None, 0)
    (add,) = lose_reply(protocol, company)
    assert add.tag == "InvoiceAddRq" and add.get("requestID") == str(job_id)


def test_non_add_is_resent_as_it_is(engine: Engine, company: NewCompany, protocol: Protocol) -> None:
    """A requeued Mod is sent again unchanged, under its own requestID, and its mark goes once it is done."""
    mod = {"list_id": "80000001-1", "edit_sequence": "17", "name": "Zoë's Garage"}
    job_id = enqueue(engine, "customer_mod", mod)
    (first,) = lose_reply(protocol, company)
    (second,) = lose_reply(protocol, company)
    assert second.tag == "CustomerModRq" and second.get("requestID") == str(job_id)
    assert etree.tostring(first) == etree.tostring(second)
    ticket = start(protocol, company)
    (third,) = send(protocol, ticket)
    answer = rs(third.get("requestID"), name="CustomerModRs", ret=customer_ret("80000001-1", "Zoë's Garage"))
    assert protocol.receive_response_xml(ticket, response_doc(answer), "", "") == 100
    assert (row(engine, job_id).state, row(engine, job_id).progress) == (JobState.DONE, None)
