"""The QuickBooks objects the emulator knows: lists, transactions and their references."""

from __future__ import annotations

from dataclasses import dataclass

from qbwc_service.simulator.xmldata import REPEATED


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of QuickBooks object, named as in its requests (``Customer``, ``Invoice``)."""

    name: str
    #: A transaction (TxnID) rather than a list entry (ListID).
    txn: bool = False
    #: Names unique within this group of kinds (``names``, ``items``, ``accounts``, ``codes``).
    namespace: str = ""
    #: Entries may sit under a parent (``ParentRef``), which makes their FullName.
    hierarchical: bool = False
    #: Elements always read as lists.
    repeated: frozenset[str] = REPEATED
    #: Line elements, returned by queries only with ``IncludeLineItems``.
    lines: tuple[str, ...] = ()

    @property
    def id_field(self) -> str:
        """``TxnID`` or ``ListID``."""
        return "TxnID" if self.txn else "ListID"


ITEM_KINDS: tuple[str, ...] = (
    "ItemService",
    "ItemNonInventory",
    "ItemInventory",
    "ItemOtherCharge",
    "ItemDiscount",
    "ItemSalesTax",
    "ItemSalesTaxGroup",
)
NAME_KINDS: tuple[str, ...] = ("Customer", "Vendor", "Employee", "OtherName")
TERMS_KINDS: tuple[str, ...] = ("StandardTerms", "DateDrivenTerms")

_LIST_KINDS = [
    Kind("Customer", namespace="names", hierarchical=True),
    Kind("Vendor", namespace="names"),
    Kind("Employee", namespace="names"),
    Kind("OtherName", namespace="names"),
    Kind("Account", namespace="accounts", hierarchical=True),
    Kind("SalesTaxCode", namespace="codes"),
    Kind("Class", namespace="classes", hierarchical=True),
    Kind("StandardTerms", namespace="terms"),
    Kind("DateDrivenTerms", namespace="terms"),
    Kind("PaymentMethod", namespace="payment_methods"),
    *(
        Kind(name, namespace="items", hierarchical=name not in ("ItemSalesTax", "ItemSalesTaxGroup"))
        for name in ITEM_KINDS
        if name != "ItemSalesTaxGroup"
    ),
    Kind("ItemSalesTaxGroup", namespace="items", repeated=REPEATED | {"ItemSalesTaxRef"}),
]
_TXN_KINDS = [
    Kind("Invoice", txn=True, lines=("InvoiceLineRet",)),
    Kind("SalesReceipt", txn=True, lines=("SalesReceiptLineRet",)),
    Kind("ReceivePayment", txn=True),
    Kind("JournalEntry", txn=True, lines=("JournalDebitLine", "JournalCreditLine")),
]
KINDS: dict[str, Kind] = {k.name: k for k in (*_LIST_KINDS, *_TXN_KINDS)}

_ACCOUNT_REFS = (
    "AccountRef",
    "ARAccountRef",
    "APAccountRef",
    "IncomeAccountRef",
    "COGSAccountRef",
    "AssetAccountRef",
    "ExpenseAccountRef",
    "DepositToAccountRef",
    "DiscountAccountRef",
    "OverrideItemAccountRef",
)
#: What each checked reference may point at. Others (ClassRef, TermsRef, ...) are kept as sent.
REF_TARGETS: dict[str, tuple[str, ...]] = {
    "CustomerRef": ("Customer",),
    "VendorRef": ("Vendor",),
    "PrefVendorRef": ("Vendor",),
    "TaxVendorRef": ("Vendor",),
    "EntityRef": NAME_KINDS,
    **dict.fromkeys(_ACCOUNT_REFS, ("Account",)),
    "ItemRef": ITEM_KINDS,
    "ItemSalesTaxRef": ("ItemSalesTax", "ItemSalesTaxGroup"),
    "SalesTaxCodeRef": ("SalesTaxCode",),
    "CustomerSalesTaxCodeRef": ("SalesTaxCode",),
    "PurchaseTaxCodeRef": ("SalesTaxCode",),
}


def ref_targets(kind: Kind, ref: str) -> tuple[str, ...] | None:
    """The kinds reference ``ref`` inside a ``kind`` may point at; ``None``: not checked."""
    if ref == "ParentRef":
        if kind.namespace == "items":
            return tuple(k for k in ITEM_KINDS if KINDS[k].hierarchical)
        return (kind.name,) if kind.hierarchical else None
    if kind.name == "ItemSalesTaxGroup" and ref == "ItemSalesTaxRef":
        return ("ItemSalesTax",)
    return REF_TARGETS.get(ref)


def label(kind_name: str) -> str:
    """How QuickBooks names a kind in its messages (``ItemService`` -> ``Item Service``)."""
    out = []
    for i, ch in enumerate(kind_name):
        if ch.isupper() and i and not kind_name[i - 1].isupper():
            out.append(" ")
        out.append(ch)
    return "".join(out)
