"""Every typed builder example, built by qbxml_builders, goes through the emulator as QuickBooks would take it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbxml_builders import KINDS, QBResponse, build_document, build_request, parse_response
from qbxml_builders.examples import EXAMPLES, MINIMAL
from tests.emulator.conftest import FakeClock, needs_spec

pytestmark = needs_spec

ADD_KINDS = sorted(k for k in EXAMPLES if k.endswith("_add"))
QUERY_KINDS = sorted(k for k in EXAMPLES if k.endswith("_query"))
VERSIONS = ("13.0", "16.0")
#: Add kinds in the order a company is set up: what others refer to comes first.
STOCK_ORDER = (
    "vendor_add", "sales_tax_item_add", "sales_tax_group_item_add", "sales_tax_code_add", "account_add",
    "item_service_add", "item_non_inventory_add", "item_inventory_add", "item_other_charge_add",
    "item_discount_add", "customer_add", "invoice_add", "sales_receipt_add", "journal_entry_add", "payment_add",
)  # fmt: skip

#: The kind created for a missing ``…_ref`` (by payload key) and the account type it needs.
_REF_KIND = {
    "customer_ref": ("customer_add", None),
    "tax_vendor_ref": ("vendor_add", None),
    "item_sales_tax_ref": ("sales_tax_item_add", None),
    "item_sales_tax_refs": ("sales_tax_item_add", None),
    "item_ref": ("item_service_add", None),
    "sales_tax_code_ref": ("sales_tax_code_add", None),
    "customer_sales_tax_code_ref": ("sales_tax_code_add", None),
    "account_ref": ("account_add", "Income"),
    "income_account_ref": ("account_add", "Income"),
    "expense_account_ref": ("account_add", "Expense"),
    "cogs_account_ref": ("account_add", "CostOfGoodsSold"),
    "asset_account_ref": ("account_add", "OtherCurrentAsset"),
    "deposit_to_account_ref": ("account_add", "OtherCurrentAsset"),
}
#: What the emulator stores each typed kind as.
_STORED = {
    "customer_add": "Customer",
    "vendor_add": "Vendor",
    "sales_tax_item_add": "ItemSalesTax",
    "item_service_add": "ItemService",
    "sales_tax_code_add": "SalesTaxCode",
    "account_add": "Account",
}


class Books:
    """An emulated US company fed with typed requests, built as the service builds them."""

    def __init__(self, version: str) -> None:
        self.version = version
        #: Real ListIDs given to the examples' made-up ones.
        self.placeholders: dict[str, str] = {}
        self.qb = QuickBooksEmulator(CompanyFacts(), clock=FakeClock(datetime(2024, 6, 3, 15, 0, tzinfo=UTC)))

    def send(self, kind: str, payload: dict[str, Any]) -> QBResponse:
        """Build one typed request, hand it to QuickBooks and parse the answer."""
        element = build_request(kind, payload, version=self.version)
        document = build_document([("1", element)], version=self.version)
        (response,) = parse_response(self.qb.process_request(document))
        return response

    def ok(self, kind: str, payload: dict[str, Any]) -> dict[str, str]:
        """Send a request that must succeed; its ids."""
        response = self.send(kind, payload)
        assert response.status_code == 0, f"{kind}: {response.status_code} {response.message}"
        return response.ids()

    def prepare(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create what ``payload`` refers to and put real ids where the example holds placeholders."""
        payload = copy.deepcopy(payload)
        for key, ref in _refs(payload):
            created, account_type = _REF_KIND.get(key, (None, None))
            if created is None:
                continue  # classes, terms, payment methods: QuickBooks keeps them as sent here
            if "list_id" in ref:
                placeholder = ref["list_id"]
                if placeholder not in self.placeholders:
                    self.placeholders[placeholder] = self.create(created, f"For {placeholder}", account_type)["ListID"]
                ref["list_id"] = self.placeholders[placeholder]
            elif self.qb.find(_STORED[created], ref["full_name"]) is None:
                self.create(created, ref["full_name"], account_type)
        for applied in payload.get("applied_to", ()):
            item = self.create("item_service_add", "Billed work", None)
            line = {"item_ref": {"list_id": item["ListID"]}, "amount": "1000"}
            invoice = self.ok("invoice_add", {"customer_ref": payload["customer_ref"], "lines": [line]})
            applied["txn_id"] = invoice["TxnID"]
        return payload

    def create(self, kind: str, name: str, account_type: str | None) -> dict[str, str]:
        """Create a list entry of a typed Add kind with the fewest fields it takes."""
        body: dict[str, Any] = {"name": name}
        if kind == "item_service_add":
            body["sales_or_purchase"] = {"price": "10"}
        elif kind == "sales_tax_code_add":
            body["is_taxable"] = True
        elif kind == "account_add":
            body["account_type"] = account_type
        return self.ok(kind, body)


def _refs(node: Any, key: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every reference in a payload with the key it sits under, depth first."""
    if isinstance(node, dict):
        if key.endswith(("_ref", "_refs")) and ({"full_name", "list_id"} & node.keys()):
            yield key, node
            return
        for name, value in node.items():
            yield from _refs(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value, key)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", ADD_KINDS)
@pytest.mark.parametrize("examples", [EXAMPLES, MINIMAL], ids=["example", "minimal"])
def test_every_add_example_is_accepted(examples: dict[str, dict[str, Any]], kind: str, version: str) -> None:
    """Each Add example, with its references created first, is schema-valid, saved and answered with its new id."""
    if kind not in examples:
        pytest.skip(f"no minimal example of {kind}")
    books = Books(version)
    payload = books.prepare(examples[kind])
    response = books.send(kind, payload)
    assert (response.status_code, response.severity) == (0, "Info"), response.message
    ids = response.ids()
    assert ids.get("ListID") or ids.get("TxnID"), ids


def test_example_invoice_and_payment_add_up() -> None:
    """The example invoice totals its lines and the example payment, applied to it, lowers its balance."""
    books = Books("16.0")
    invoice_payload = books.prepare(EXAMPLES["invoice_add"])
    invoice = books.send("invoice_add", invoice_payload).objects[0]
    assert invoice["Subtotal"] == "201.00"  # 2 x 95.50 + 10.00; the description line is free
    assert invoice["BalanceRemaining"] == "201.00"  # POS Tax 0%
    payment_payload = copy.deepcopy(EXAMPLES["payment_add"])
    payment_payload["applied_to"] = [{"txn_id": invoice["TxnID"], "payment_amount": "150.00"}]
    payment_payload["total_amount"] = "150.00"
    payment = books.send("payment_add", payment_payload)
    assert payment.status_code == 0, payment.message
    (stored,) = books.qb.records("Invoice")
    assert (stored["BalanceRemaining"], stored["IsPaid"]) == ("51.00", "false")
    customer = books.qb.find("Customer", "Acme Café")
    assert customer is not None and Decimal(str(customer["Balance"])) == Decimal("51.00")


def test_example_payment_larger_than_its_invoice_is_refused() -> None:
    """A payment applying more than an invoice's open balance is refused with 3180 and changes nothing."""
    books = Books("16.0")
    invoice = books.ok("invoice_add", books.prepare(EXAMPLES["invoice_add"]))
    payload = copy.deepcopy(EXAMPLES["payment_add"])  # applies 291.00 to a 201.00 invoice
    payload["applied_to"][0]["txn_id"] = invoice["TxnID"]
    response = books.send("payment_add", payload)
    assert response.status_code == 3180
    assert books.qb.records("ReceivePayment") == []


def _stocked(version: str) -> Books:
    """A company holding every Add example, and a class (the builders have no ClassAdd)."""
    books = Books(version)
    for kind in STOCK_ORDER:
        books.ok(kind, books.prepare(EXAMPLES[kind]))
    books.qb.bulk_add("Class", [{"Name": "East"}])
    return books


def _all_pages(books: Books, kind: str, payload: dict[str, Any]) -> tuple[list[QBResponse], list[str]]:
    """Run a query with an iterator to the end; every page and the ids it returned."""
    pages = [books.send(kind, {**payload, "iterator": "Start", "max_returned": 1})]
    while pages[-1].iterator_remaining:
        assert len(pages) < 100, "the iterator never ends"
        pages.append(books.send(kind, {**payload, "iterator": "Continue", "iterator_id": pages[-1].iterator_id}))
    ids = [o.get("ListID") or o.get("TxnID") or "" for page in pages for o in page.objects]
    return pages, ids


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", QUERY_KINDS)
def test_every_query_example_finds_what_it_asks_for(kind: str, version: str) -> None:
    """Each query example is schema-valid and finds at least one record of a company holding every Add example."""
    books = _stocked(version)
    payload = copy.deepcopy(EXAMPLES[kind])
    if payload.get("iterator") == "Continue":
        response = books.send(kind, payload)
        assert response.status_code == 3391, response.message  # the example's iteratorID is made up
        return
    if "list_ids" in payload:  # the example's made-up ListID stands for the example Shipping item
        shipping = books.qb.find("ItemOtherCharge", "Shipping")
        assert shipping is not None
        payload["list_ids"] = [shipping["ListID"]]
    response = books.send(kind, payload)
    assert (response.status_code, response.severity) == (0, "Info"), response.message
    assert response.objects


def test_query_naming_an_unknown_list_id_is_a_warning() -> None:
    """The example query by a ListID the company never gave out answers 500, severity Warn, with no objects."""
    books = _stocked("16.0")
    response = books.send("item_other_charge_query", EXAMPLES["item_other_charge_query"])
    assert (response.status_code, response.severity, response.objects) == (500, "Warn", ())


ITERATING = sorted(k for k in QUERY_KINDS if "iterator" in KINDS[k].payload_model.model_fields)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", ITERATING)
def test_every_iterating_query_pages_through_all_matches(kind: str, version: str) -> None:
    """Paging one record at a time with Start and Continue returns each match once, as one plain query does."""
    books = _stocked(version)
    plain = books.send(kind, {})
    assert plain.status_code == 0, plain.message
    expected = [o.get("ListID") or o.get("TxnID") for o in plain.objects]
    pages, ids = _all_pages(books, kind, {})
    assert ids == expected
    assert len(pages) == len(expected)
    assert pages[-1].iterator_remaining == 0
    again = books.send(kind, {"iterator": "Continue", "iterator_id": pages[-1].iterator_id})
    assert again.status_code == 3391  # a finished iterator is gone
