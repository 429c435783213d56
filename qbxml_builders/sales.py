"""Sales transactions: invoices and sales receipts (Add, Mod, Query).

A line names an item (with quantity, rate or amount) or is a description-only line
(``desc`` alone), which QuickBooks prints as a text row.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ._fields import (
    NOT_US,
    US_ONLY,
    Address,
    EditSequence,
    Guid,
    Id,
    Money,
    Payload,
    Percent,
    Price,
    Quantity,
    Rate,
    Ref,
    Str11,
    Str13,
    Str25,
    Str29,
    Str31,
    Str4095,
    TaxCodeRef,
    X,
)
from ._rules import AtMostOne, If, Is, Requires, Rule, need
from .queries import TxnQuery, tail_linked

_V6 = X(since="6.0")
_TAX_INCLUDED = X(since="6.0", countries=NOT_US)
_ITEM_TAX = X(countries=US_ONLY)
_EXCHANGE = X(since="8.0")
_GUID = X(tag="ExternalGUID", since="8.0")
_PRICED = ("quantity", "rate", "rate_percent", "amount")
#: A line prices itself by one of these at most.
_ONE_PRICE = AtMostOne(("rate", "rate_percent", "price_level_ref"))
#: A new line that is priced names its item.
_PRICED_NEEDS_ITEM = Requires(_PRICED, then="item_ref", message="item_ref: a line with {} needs an item")
_NEW_LINE = Is("txn_line_id", ("-1",))


class SalesLine(Payload):
    """An invoice or sales receipt line: an item line, or a description-only line."""

    item_ref: Ref | None = None
    desc: Str4095 | None = None
    quantity: Quantity | None = None
    unit_of_measure: Annotated[Str31 | None, X(since="7.0")] = None
    rate: Price | None = None
    rate_percent: Percent | None = None
    price_level_ref: Ref | None = None
    class_ref: Ref | None = None
    amount: Money | None = None
    service_date: date | None = None
    sales_tax_code_ref: TaxCodeRef | None = None
    override_item_account_ref: Ref | None = None
    other1: Annotated[Str29 | None, _V6] = None
    other2: Annotated[Str29 | None, _V6] = None

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """An item or a desc; one way of pricing; a priced line names its item."""
        return (
            *super().field_rules(),
            need("item_ref", "desc", message="item_ref: give an item, or a desc for a description-only line"),
            _ONE_PRICE,
            _PRICED_NEEDS_ITEM,
        )


class SalesLineMod(Payload):
    """A line of a changed invoice or sales receipt; ``txn_line_id`` ``-1`` adds a line.

    QuickBooks deletes the lines a Mod leaves out, so send every line to keep.
    """

    txn_line_id: Annotated[Id, X(tag="TxnLineID")]
    item_ref: Ref | None = None
    desc: Str4095 | None = None
    quantity: Quantity | None = None
    unit_of_measure: Annotated[Str31 | None, X(since="7.0")] = None
    rate: Price | None = None
    rate_percent: Percent | None = None
    price_level_ref: Ref | None = None
    class_ref: Ref | None = None
    amount: Money | None = None
    service_date: date | None = None
    sales_tax_code_ref: TaxCodeRef | None = None
    override_item_account_ref: Ref | None = None
    other1: Annotated[Str29 | None, _V6] = None
    other2: Annotated[Str29 | None, _V6] = None

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """As a new line's (txn_line_id -1), and one way of pricing for every line."""
        return (
            *super().field_rules(),
            If(_NEW_LINE, need("item_ref", "desc", message="item_ref: a new line needs an item, or a desc")),
            _ONE_PRICE,
            If(_NEW_LINE, _PRICED_NEEDS_ITEM),
        )


class InvoiceAdd(Payload):
    """A new invoice for ``customer_ref``, with item and description-only lines."""

    customer_ref: Ref
    class_ref: Ref | None = None
    ar_account_ref: Ref | None = None
    template_ref: Ref | None = None
    txn_date: date | None = None
    ref_number: Str11 | None = None
    bill_address: Address | None = None
    ship_address: Address | None = None
    is_pending: bool | None = None
    po_number: Str25 | None = None
    terms_ref: Ref | None = None
    due_date: date | None = None
    sales_rep_ref: Ref | None = None
    fob: Str13 | None = None
    ship_date: date | None = None
    ship_method_ref: Ref | None = None
    item_sales_tax_ref: Annotated[Ref | None, _ITEM_TAX] = None
    memo: Str4095 | None = None
    customer_msg_ref: Ref | None = None
    is_to_be_printed: bool | None = None
    is_to_be_emailed: Annotated[bool | None, _V6] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    customer_sales_tax_code_ref: TaxCodeRef | None = None
    other: Annotated[Str29 | None, _V6] = None
    exchange_rate: Annotated[Rate | None, _EXCHANGE] = None
    external_guid: Annotated[Guid | None, _GUID] = None
    link_to_txn_ids: Annotated[tuple[Id, ...], X(tag="LinkToTxnID", since="6.0")] = ()
    lines: Annotated[tuple[SalesLine, ...], X(tag="InvoiceLineAdd")] = ()

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """Lines, or transactions to link whose lines it takes."""
        return (
            *super().field_rules(),
            need("lines", "link_to_txn_ids", message="lines: an invoice needs at least one line"),
        )


class InvoiceMod(Payload):
    """Changes to an invoice; when ``lines`` is given it replaces every line."""

    txn_id: Annotated[Id, X(tag="TxnID")]
    edit_sequence: EditSequence
    customer_ref: Ref | None = None
    class_ref: Ref | None = None
    ar_account_ref: Ref | None = None
    template_ref: Ref | None = None
    txn_date: date | None = None
    ref_number: Str11 | None = None
    bill_address: Address | None = None
    ship_address: Address | None = None
    is_pending: bool | None = None
    po_number: Str25 | None = None
    terms_ref: Ref | None = None
    due_date: date | None = None
    sales_rep_ref: Ref | None = None
    fob: Str13 | None = None
    ship_date: date | None = None
    ship_method_ref: Ref | None = None
    item_sales_tax_ref: Annotated[Ref | None, _ITEM_TAX] = None
    memo: Str4095 | None = None
    customer_msg_ref: Ref | None = None
    is_to_be_printed: bool | None = None
    is_to_be_emailed: Annotated[bool | None, _V6] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    customer_sales_tax_code_ref: TaxCodeRef | None = None
    other: Annotated[Str29 | None, _V6] = None
    exchange_rate: Annotated[Rate | None, _EXCHANGE] = None
    lines: Annotated[tuple[SalesLineMod, ...], X(tag="InvoiceLineMod")] = ()


class PaidStatus(StrEnum):
    """Which invoices a query returns by payment state."""

    ALL = "All"
    PAID_ONLY = "PaidOnly"
    NOT_PAID_ONLY = "NotPaidOnly"


class InvoiceQuery(TxnQuery):
    """Find invoices: by TxnID, RefNumber, or filters such as modified-since and customer."""

    paid_status: PaidStatus | None = None
    include_linked_txns: Annotated[bool | None, tail_linked()] = None

    extra_filters = ("paid_status",)


class SalesReceiptAdd(Payload):
    """A new sales receipt: a sale paid on the spot, at least one line."""

    customer_ref: Ref | None = None
    class_ref: Ref | None = None
    template_ref: Ref | None = None
    txn_date: date | None = None
    ref_number: Str11 | None = None
    bill_address: Address | None = None
    ship_address: Address | None = None
    is_pending: bool | None = None
    check_number: Str25 | None = None
    payment_method_ref: Ref | None = None
    due_date: date | None = None
    sales_rep_ref: Ref | None = None
    ship_date: date | None = None
    ship_method_ref: Ref | None = None
    fob: Str13 | None = None
    item_sales_tax_ref: Annotated[Ref | None, _ITEM_TAX] = None
    memo: Str4095 | None = None
    customer_msg_ref: Ref | None = None
    is_to_be_printed: bool | None = None
    is_to_be_emailed: Annotated[bool | None, _V6] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    customer_sales_tax_code_ref: TaxCodeRef | None = None
    deposit_to_account_ref: Ref | None = None
    other: Annotated[Str29 | None, _V6] = None
    exchange_rate: Annotated[Rate | None, _EXCHANGE] = None
    external_guid: Annotated[Guid | None, _GUID] = None
    lines: Annotated[tuple[SalesLine, ...], X(tag="SalesReceiptLineAdd"), Field(min_length=1)]


class SalesReceiptMod(Payload):
    """Changes to a sales receipt; when ``lines`` is given it replaces every line."""

    txn_id: Annotated[Id, X(tag="TxnID")]
    edit_sequence: EditSequence
    customer_ref: Ref | None = None
    class_ref: Ref | None = None
    template_ref: Ref | None = None
    txn_date: date | None = None
    ref_number: Str11 | None = None
    bill_address: Address | None = None
    ship_address: Address | None = None
    is_pending: bool | None = None
    check_number: Str25 | None = None
    payment_method_ref: Ref | None = None
    due_date: date | None = None
    sales_rep_ref: Ref | None = None
    ship_date: date | None = None
    ship_method_ref: Ref | None = None
    fob: Str13 | None = None
    item_sales_tax_ref: Annotated[Ref | None, _ITEM_TAX] = None
    memo: Str4095 | None = None
    customer_msg_ref: Ref | None = None
    is_to_be_printed: bool | None = None
    is_to_be_emailed: Annotated[bool | None, _V6] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    customer_sales_tax_code_ref: TaxCodeRef | None = None
    deposit_to_account_ref: Ref | None = None
    other: Annotated[Str29 | None, _V6] = None
    exchange_rate: Annotated[Rate | None, _EXCHANGE] = None
    lines: Annotated[tuple[SalesLineMod, ...], X(tag="SalesReceiptLineMod")] = ()


class SalesReceiptQuery(TxnQuery):
    """Find sales receipts."""
