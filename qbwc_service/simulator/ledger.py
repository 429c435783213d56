"""The emulated company's ledger: what every transaction it holds did to each account.

:func:`ledger` is pure over the :class:`~.store.Store`: the net debit balance of each
account (debits positive, credits negative), keyed by the account's current FullName, so
two ways of posting the same business day can be compared by their accounting totals.

- Invoice: debit its ``ARAccountRef`` by Subtotal + SalesTaxTotal; credit each line's
  Amount to the line's account (:func:`line_account`); credit SalesTaxTotal to
  :data:`SALES_TAX_PAYABLE`.
- SalesReceipt: debit ``DepositToAccountRef`` by TotalAmount; lines and tax as an invoice.
- ReceivePayment: debit ``DepositToAccountRef``, credit ``ARAccountRef``, both by TotalAmount.
- JournalEntry: each ``JournalDebitLine`` debits, each ``JournalCreditLine`` credits its
  ``AccountRef``.

Negative amounts (discount lines, a refund entered as a sales receipt of negative lines)
post the other way round. Left out: the cost of inventory sold (cost of goods sold against
the inventory asset), which the emulator does not track. Accounts whose balance nets to
zero are not listed, so ledgers that differ only by such accounts compare equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from qbwc_service.simulator.store import Store, ref_id
from qbwc_service.simulator.xmldata import Data, Value

#: The liability QuickBooks posts sales tax to (created with :meth:`.QuickBooksEmulator.special_account`).
SALES_TAX_PAYABLE = "Sales Tax Payable"
#: Where a posting that names no account goes: a line with no item, an item with no income account.
UNCATEGORIZED_INCOME = "Uncategorized Income"

_ZERO = Decimal("0")
_TWO_SIDED = ("ItemService", "ItemNonInventory", "ItemOtherCharge")
_SALES_TAX_ITEMS = ("ItemSalesTax", "ItemSalesTaxGroup")


def ledger(store: Store) -> dict[str, Decimal]:
    """The net debit balance per account FullName, from every transaction in the store."""
    totals: dict[str, Decimal] = {}

    def post(account: str, amount: Decimal) -> None:
        totals[account] = totals.get(account, _ZERO) + amount

    for kind, lines_tag, head_ref in (
        ("Invoice", "InvoiceLineRet", "ARAccountRef"),
        ("SalesReceipt", "SalesReceiptLineRet", "DepositToAccountRef"),
    ):
        for sale in store.records[kind].values():
            tax = _amount(sale.get("SalesTaxTotal"))
            post(account_name(store, sale.get(head_ref)), _amount(sale.get("Subtotal")) + tax)
            for line in _lines(sale.get(lines_tag)):
                post(line_account(store, line), -_amount(line.get("Amount")))
            post(SALES_TAX_PAYABLE, -tax)
    for payment in store.records["ReceivePayment"].values():
        total = _amount(payment.get("TotalAmount"))
        post(account_name(store, payment.get("DepositToAccountRef")), total)
        post(account_name(store, payment.get("ARAccountRef")), -total)
    for entry in store.records["JournalEntry"].values():
        for tag, sign in (("JournalDebitLine", 1), ("JournalCreditLine", -1)):
            for line in _lines(entry.get(tag)):
                post(account_name(store, line.get("AccountRef")), sign * _amount(line.get("Amount")))
    return {name: amount for name, amount in totals.items() if amount != _ZERO}


def account_name(store: Store, ref: Value | None) -> str:
    """The current FullName of the account a stored reference names (its ListID looked up)."""
    found = store.get(ref_id(ref) or "")
    if found is not None:
        return store.name_of(found[1])
    name = ref.get("FullName") if isinstance(ref, dict) else None
    return name if isinstance(name, str) and name else UNCATEGORIZED_INCOME


def line_account(store: Store, line: Data) -> str:
    """The account a sales line posts to: its override, else its item's income account."""
    override = line.get("OverrideItemAccountRef")
    if isinstance(override, dict):
        return account_name(store, override)
    found = store.get(ref_id(line.get("ItemRef")) or "")
    if found is None:
        return UNCATEGORIZED_INCOME
    kind, item = found
    if kind.name in _SALES_TAX_ITEMS:
        return SALES_TAX_PAYABLE
    ref: Value | None = None
    if kind.name in _TWO_SIDED:
        one, two = item.get("SalesOrPurchase"), item.get("SalesAndPurchase")
        if isinstance(one, dict):
            ref = one.get("AccountRef")
        elif isinstance(two, dict):
            ref = two.get("IncomeAccountRef")
    elif kind.name == "ItemInventory":
        ref = item.get("IncomeAccountRef")
    elif kind.name == "ItemDiscount":
        ref = item.get("AccountRef")
    return account_name(store, ref)


def _lines(value: Value | None) -> Iterable[Data]:
    if isinstance(value, dict):
        return (value,)
    return value if isinstance(value, list) else ()


def _amount(value: Value | None) -> Decimal:
    return Decimal(value) if isinstance(value, str) and value else _ZERO
