"""The QuickBooks lists an import reads: which query, which type, which key fields.

Accounts, sales tax codes, terms, classes and payment methods have no iterators in qbXML:
their imports page by name (:mod:`qbwc_service.queue.iterate`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qbwc_service.errors import QbwcError


class UnknownList(QbwcError):
    """There is no import list of that name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"there is no list called {name!r} to import; the lists are: {', '.join(LISTS)}")


@dataclass(frozen=True, slots=True)
class ImportList:
    """One list the service imports, with the query that reads it."""

    #: The name commands, the API and the table use: ``customers``, ``items``, ...
    name: str
    #: How pages say it: "customers", "sales tax codes".
    label: str
    #: The typed ``…_query`` kind of :mod:`qbxml_builders` that reads the list.
    query: str
    #: Key fields kept beside the whole record: our name → the path in the ``…Ret`` (``/`` between levels).
    keys: Mapping[str, str]

    @property
    def kind(self) -> str:
        """The job kind of an import of this list."""
        return f"import_{self.name}"


_PRICE = {
    "description": "SalesOrPurchase/Desc|SalesAndPurchase/SalesDesc|SalesDesc|ItemDesc",
    "price": "SalesOrPurchase/Price|SalesAndPurchase/SalesPrice|SalesPrice",
    "cost": "SalesAndPurchase/PurchaseCost|PurchaseCost",
    "quantity_on_hand": "QuantityOnHand",
    "tax_rate": "TaxRate",
}

#: Every list an import reads, by name. Sales tax items and sales tax groups are items, so
#: ``items`` holds them too (of every type); ``sales_tax_items`` is the sales tax items alone.
LISTS: dict[str, ImportList] = {
    entry.name: entry
    for entry in (
        ImportList(
            "customers", "customers", "customer_query",
            {"company_name": "CompanyName", "first_name": "FirstName", "last_name": "LastName", "email": "Email",
             "phone": "Phone", "parent": "ParentRef/FullName", "balance": "TotalBalance|Balance"},
        ),
        ImportList(
            "vendors", "vendors", "vendor_query",
            {"company_name": "CompanyName", "email": "Email", "phone": "Phone",
             "is_sales_tax_agency": "IsSalesTaxAgency", "balance": "Balance"},
        ),
        ImportList(
            "accounts", "accounts", "account_query",
            {"account_type": "AccountType", "account_number": "AccountNumber", "description": "Desc",
             "balance": "TotalBalance|Balance"},
        ),
        ImportList("items", "items", "item_query", {"parent": "ParentRef/FullName", **_PRICE}),
        ImportList(
            "sales_tax_items", "sales tax items", "sales_tax_item_query",
            {"tax_rate": "TaxRate", "description": "ItemDesc", "tax_vendor": "TaxVendorRef/FullName"},
        ),
        ImportList("sales_tax_codes", "sales tax codes", "sales_tax_code_query",
                   {"is_taxable": "IsTaxable", "description": "Desc"}),
        ImportList("terms", "terms", "terms_query",
                   {"due_days": "StdDueDays", "discount_days": "StdDiscountDays", "discount_pct": "DiscountPct",
                    "day_of_month_due": "DayOfMonthDue"}),
        ImportList("classes", "classes", "class_query", {"parent": "ParentRef/FullName"}),
        ImportList("payment_methods", "payment methods", "payment_method_query",
                   {"payment_method_type": "PaymentMethodType"}),
    )
}  # fmt: skip


def get_list(name: str) -> ImportList:
    """The import list called ``name``, or :class:`UnknownList`."""
    found = LISTS.get(name)
    if found is None:
        raise UnknownList(name)
    return found


@functools.cache
def _paths(paths: str) -> tuple[tuple[str, ...], ...]:
    """``A/B|C`` as ``(("A", "B"), ("C",))``."""
    return tuple(tuple(path.split("/")) for path in paths.split("|"))


def _at(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def key_fields(entry: ImportList, data: Mapping[str, Any]) -> dict[str, Any]:
    """The key fields of one record (the first path of each that it holds), without the empty ones."""
    out = {}
    for name, paths in entry.keys.items():
        for path in _paths(paths):
            value = _at(data, path)
            if value is not None and not isinstance(value, Mapping | list):
                out[name] = value
                break
    return out
