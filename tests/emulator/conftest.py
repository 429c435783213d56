"""Fixtures and helpers for the QuickBooks emulator and Web Connector simulator tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.simulator.schema import load_schema
from qbxml_builders import OnError, QBResponse, build_document, parse_response

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec"
needs_spec = pytest.mark.skipif(
    not (SPEC / "qbxml" / "qbxmlops130.xsd").is_file(),
    reason=f"the qbXML/QBWC reference specs are not at {SPEC}",
)


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 3, 1, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        """Move time forward."""
        self.now += timedelta(**kwargs)


def el(tag: str, *children: etree._Element | str, **attrs: str) -> etree._Element:
    """An element with child elements, or text when the only child is a string."""
    node = etree.Element(tag, **attrs)
    for child in children:
        if isinstance(child, str):
            node.text = child
        else:
            node.append(child)
    return node


def ref(tag: str, full_name: str | None = None, *, list_id: str | None = None) -> etree._Element:
    """A ``…Ref`` by FullName or ListID."""
    if list_id is not None:
        return el(tag, el("ListID", list_id))
    return el(tag, el("FullName", full_name or ""))


def add(kind: str, *fields: etree._Element) -> etree._Element:
    """A ``<kind>AddRq`` with its ``<kind>Add`` body."""
    return el(f"{kind}AddRq", el(f"{kind}Add", *fields))


def mod(kind: str, ident: str, edit_sequence: str, *fields: etree._Element) -> etree._Element:
    """A ``<kind>ModRq`` for a list entry or transaction."""
    id_tag = "ListID" if not kind.startswith(("Invoice", "SalesReceipt")) else "TxnID"
    return el(
        f"{kind}ModRq",
        el(f"{kind}Mod", el(id_tag, ident), el("EditSequence", edit_sequence), *fields),
    )


def document(*requests: etree._Element, on_error: OnError = OnError.STOP, version: str = "13.0") -> bytes:
    """A request document with requestIDs 1, 2, ..."""
    return build_document([(str(i), r) for i, r in enumerate(requests, 1)], version=version, on_error=on_error)


class Company:
    """An emulator with helpers that send requests and parse what comes back."""

    def __init__(self, emulator: QuickBooksEmulator) -> None:
        self.qb = emulator

    def send(self, *requests: etree._Element, on_error: OnError = OnError.STOP) -> list[QBResponse]:
        """Send requests in one document; every response document must be schema-valid."""
        out = self.qb.process_request(document(*requests, on_error=on_error))
        schema = load_schema("13.0")
        if schema is not None:
            assert schema.validate(etree.fromstring(out.encode())), schema.error_log.last_error
        return parse_response(out)

    def one(self, request: etree._Element) -> QBResponse:
        """Send one request and return its response."""
        return self.send(request)[0]

    def ok(self, request: etree._Element) -> dict[str, str]:
        """Send one request that must succeed; return its ids."""
        response = self.one(request)
        assert response.status_code == 0, response.message
        return response.ids()


@pytest.fixture
def clock() -> FakeClock:
    """A frozen clock at 2024-03-01 15:00 UTC."""
    return FakeClock()


@pytest.fixture
def qb(clock: FakeClock) -> Company:
    """A new US Pro company with sales tax on, on the frozen clock."""
    return Company(QuickBooksEmulator(CompanyFacts(), clock=clock))


@pytest.fixture
def stocked(qb: Company) -> Company:
    """A company with an income account, an 8.25 % tax item, a service item and a customer."""
    qb.ok(add("Account", el("Name", "Sales"), el("AccountType", "Income")))
    qb.ok(add("ItemSalesTax", el("Name", "IL"), el("TaxRate", "8.25")))
    qb.ok(
        add(
            "ItemService",
            el("Name", "Consulting"),
            ref("SalesTaxCodeRef", "Tax"),
            el("SalesOrPurchase", el("Price", "150.00"), ref("AccountRef", "Sales")),
        )
    )
    qb.ok(add("Customer", el("Name", "Acme"), ref("ItemSalesTaxRef", "IL")))
    return qb
