"""verify: which query looks for an Add's record, and how its answer is read."""

from __future__ import annotations

import pytest
from lxml import etree

from qbwc_service.errors import Unverifiable
from qbwc_service.qbwc.lost_replies import check_for, found_in, progress_of


def test_typed_list_adds_query_their_full_name() -> None:
    """Every typed list add is looked up with its family's query by FullName, under its parent when it has one."""
    item = check_for("item_service_add", {"name": "Labor", "parent_ref": {"full_name": "Shop"}}, "13.0", "US")
    tax = check_for("sales_tax_item_add", {"name": "State Tax"}, "13.0", "US")
    assert item is not None and tax is not None
    assert (item.query.tag, item.query.findtext("FullName"), item.entity) == ("ItemServiceQueryRq", "Shop:Labor", None)
    assert (tax.query.tag, tax.query.findtext("FullName")) == ("ItemSalesTaxQueryRq", "State Tax")


def test_raw_transaction_add_queries_its_ref_number_and_entity() -> None:
    """A raw InvoiceAddRq is looked up by RefNumber and must match its customer's ListID."""
    request = (
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><ListID>80000001-1</ListID></CustomerRef>"
        "<RefNumber>A-1</RefNumber></InvoiceAdd></InvoiceAddRq>"
    )
    check = check_for("qbxml", {"request": request}, "13.0", "US")
    assert check is not None
    assert (check.query.tag, check.query.findtext("RefNumber")) == ("InvoiceQueryRq", "A-1")
    assert check.entity == {"tag": "CustomerRef", "ListID": "80000001-1"}


def test_raw_add_unknown_to_the_builders_gets_a_plain_query() -> None:
    """A raw BillAddRq, which has no typed kind, is looked up with a BillQueryRq built with lxml."""
    request = (
        "<BillAddRq><BillAdd><VendorRef><FullName>Parts Co</FullName></VendorRef>"
        "<RefNumber>77</RefNumber></BillAdd></BillAddRq>"
    )
    check = check_for("qbxml", {"request": request}, "13.0", "US")
    assert check is not None
    assert etree.tostring(check.query) == b"<BillQueryRq><RefNumber>77</RefNumber></BillQueryRq>"
    assert check.entity == {"tag": "VendorRef", "FullName": "Parts Co"}


def test_non_adds_need_no_check() -> None:
    """Mods, queries and raw requests other than adds are resent as they are."""
    assert check_for("customer_mod", {"list_id": "1-1", "edit_sequence": "1"}, "13.0", "US") is None
    assert (
        check_for("qbxml", {"request": "<CustomerQueryRq><FullName>A</FullName></CustomerQueryRq>"}, "13.0", "US")
        is None
    )


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("journal_entry_add", {"lines": []}),
        ("customer_add", {"name": "Job", "parent_ref": {"list_id": "80000001-1"}}),
        ("qbxml", {"request": "<InvoiceAddRq><InvoiceAdd><Memo>x</Memo></InvoiceAdd></InvoiceAddRq>"}),
    ],
)
def test_adds_without_name_or_ref_number_are_unverifiable(kind: str, payload: dict[str, object]) -> None:
    """An add with nothing to look it up by (no RefNumber, a parent by ListID only) cannot be checked."""
    with pytest.raises(Unverifiable, match="check QuickBooks, then retry or cancel this job"):
        check_for(kind, payload, "13.0", "US")


def test_found_in_matches_the_entity_and_returns_ids() -> None:
    """Only a returned transaction of the job's entity counts, and its TxnID and EditSequence are kept."""
    check = check_for("payment_add", {"customer_ref": {"full_name": "Zoë"}, "ref_number": "P1"}, "13.0", "US")
    assert check is not None
    rs = etree.fromstring(
        '<ReceivePaymentQueryRs statusCode="0">'
        "<ReceivePaymentRet><TxnID>1-1</TxnID><CustomerRef><FullName>Bob</FullName></CustomerRef></ReceivePaymentRet>"
        "<ReceivePaymentRet><TxnID>2-1</TxnID><EditSequence>9</EditSequence>"
        "<CustomerRef><FullName>ZOË</FullName></CustomerRef><RefNumber>P1</RefNumber></ReceivePaymentRet>"
        "</ReceivePaymentQueryRs>"
    )
    assert found_in(rs, progress_of(check)) == {"TxnID": "2-1", "EditSequence": "9", "RefNumber": "P1"}
    assert found_in(etree.fromstring('<ReceivePaymentQueryRs statusCode="1"/>'), progress_of(check)) is None


def test_journal_entry_is_found_only_with_its_debits() -> None:
    """A journal entry's lookup asks for line items; one with the RefNumber but other debits is not it."""
    payload = {
        "ref_number": "ADJ",
        "lines": [
            {"side": "debit", "account_ref": {"full_name": "Checking"}, "amount": "200.00"},
            {"side": "debit", "account_ref": {"full_name": "Savings"}, "amount": "50.00"},
            {"side": "credit", "account_ref": {"full_name": "Income"}, "amount": "250.00"},
        ],
    }
    check = check_for("journal_entry_add", payload, "13.0", "US")
    assert check is not None
    assert (check.query.tag, check.query.findtext("RefNumber"), check.query.findtext("IncludeLineItems")) == (
        "JournalEntryQueryRq", "ADJ", "true",
    )  # fmt: skip

    def entry(txn_id: str, *debits: str) -> str:
        lines = "".join(f"<JournalDebitLine><Amount>{d}</Amount></JournalDebitLine>" for d in debits)
        return f"<JournalEntryRet><TxnID>{txn_id}</TxnID><RefNumber>ADJ</RefNumber>{lines}</JournalEntryRet>"

    def answer(*entries: str) -> etree._Element:
        return etree.fromstring(f'<JournalEntryQueryRs statusCode="0">{"".join(entries)}</JournalEntryQueryRs>')

    assert found_in(answer(entry("1-1", "75.00")), progress_of(check)) is None
    both = answer(entry("1-1", "75.00"), entry("2-1", "200", "50.00"))
    assert found_in(both, progress_of(check)) == {"TxnID": "2-1", "RefNumber": "ADJ"}


def test_transaction_with_a_date_is_found_only_on_that_date() -> None:
    """A raw InvoiceAddRq with a TxnDate matches only an invoice of that customer on that date."""
    request = (
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Zoë</FullName></CustomerRef>"
        "<TxnDate>2026-11-20</TxnDate><RefNumber>A-1</RefNumber></InvoiceAdd></InvoiceAddRq>"
    )
    check = check_for("qbxml", {"request": request}, "13.0", "US")
    assert check is not None and check.expect == {"TxnDate": "2026-11-20"}
    assert check.query.find("IncludeLineItems") is None

    def invoice(txn_id: str, day: str) -> str:
        return (
            f"<InvoiceRet><TxnID>{txn_id}</TxnID><CustomerRef><FullName>Zoë</FullName></CustomerRef>"
            f"<TxnDate>{day}</TxnDate><RefNumber>A-1</RefNumber></InvoiceRet>"
        )

    last_year = etree.fromstring(f'<InvoiceQueryRs statusCode="0">{invoice("1-1", "2025-11-20")}</InvoiceQueryRs>')
    assert found_in(last_year, progress_of(check)) is None
    ours = etree.fromstring(f'<InvoiceQueryRs statusCode="0">{invoice("2-1", "2026-11-20")}</InvoiceQueryRs>')
    assert found_in(ours, progress_of(check)) == {"TxnID": "2-1", "RefNumber": "A-1"}
