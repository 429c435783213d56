"""From a profile to the entries a setup run makes sure of, each as an ``…_ensure`` payload.

The order is the order of dependencies: accounts, then the sales tax agency and codes, the
tax item (paid to the agency), and the items (posting to the accounts). The jobs need no
explicit edges between them: each ref is given by ``full_name``, so a job waits for the
queued ensure job that creates that name (an implicit dependency, docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qbwc_service.workflows.setup.profile import ItemType, LineKind, Profile

#: The ensure kind of each item type.
ITEM_KINDS = {
    ItemType.SERVICE: "item_service_ensure",
    ItemType.NON_INVENTORY: "item_non_inventory_ensure",
    ItemType.OTHER_CHARGE: "item_other_charge_ensure",
    ItemType.DISCOUNT: "item_discount_ensure",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of the profile as setup makes sure of it."""

    #: Its key in the resolved mapping: ``account:income``, ``line_kind:labor``, ``sales_tax:item``.
    key: str
    #: What a person reads: ``Account 'Sales Income' (income)``.
    label: str
    #: The ``…_ensure`` kind and its payload.
    kind: str
    fields: dict[str, Any]
    #: Whether setup may create it when missing (else it is only looked up).
    create: bool = True


def _ref(name: str) -> dict[str, str]:
    return {"full_name": name}


def _item_fields(profile: Profile, kind: LineKind) -> dict[str, Any]:
    name = profile.item_name(kind)
    account = profile.accounts[kind.income_account].name if kind.income_account else None
    if kind.item_type is ItemType.DISCOUNT:
        fields: dict[str, Any] = {"name": name}
        if kind.description:
            fields["item_desc"] = kind.description
        if account:
            fields["account_ref"] = _ref(account)
        return fields
    if kind.expense_account is not None:  # bought for a job and resold: the income-and-expense form
        side: dict[str, Any] = {"income_account_ref": _ref(account or ""),
                                "expense_account_ref": _ref(profile.accounts[kind.expense_account].name)}  # fmt: skip
        if kind.description:
            side["sales_desc"] = side["purchase_desc"] = kind.description
        return {"name": name, "sales_and_purchase": side}
    one: dict[str, Any] = {"account_ref": _ref(account or "")}
    if kind.description:
        one["desc"] = kind.description
    return {"name": name, "sales_or_purchase": one}


def entries(profile: Profile) -> list[Entry]:
    """Every entry of the profile, dependencies first."""
    out = [
        Entry(f"account:{role}", f"Account {spec.name!r} ({role}, {spec.type})", "account_ensure",
              {"name": spec.name, "account_type": str(spec.type)}, spec.create)
        for role, spec in profile.accounts.items()
    ]  # fmt: skip
    tax = profile.sales_tax
    if tax.agency is not None:
        # US QuickBooks marks the vendor a sales tax agency once a sales tax item names it as its
        # TaxVendorRef (qbXML's IsSalesTaxAgency is for CA and UK editions only).
        out.append(
            Entry("sales_tax:agency", f"Sales tax agency {tax.agency.name!r}", "vendor_ensure",
                  {"name": tax.agency.name}, tax.agency.create)
        )  # fmt: skip
    for field in ("taxable_code", "non_taxable_code"):
        code = getattr(tax, field)
        if code is not None:
            what = "Taxable" if code.taxable else "Non-taxable"
            out.append(
                Entry(f"sales_tax:{field}", f"{what} sales tax code {code.name!r}", "sales_tax_code_ensure",
                      {"name": code.name, "is_taxable": code.taxable}, code.create)
            )  # fmt: skip
    if tax.item is not None and tax.agency is not None:
        fields: dict[str, Any] = {"name": tax.item.name, "tax_rate": str(tax.item.rate),
                                  "tax_vendor_ref": _ref(tax.agency.name)}  # fmt: skip
        if tax.item.description:
            fields["item_desc"] = tax.item.description
        out.append(Entry("sales_tax:item", f"Sales tax item {tax.item.name!r} ({tax.item.rate} %)",
                         "sales_tax_item_ensure", fields))  # fmt: skip
    what = "Product category" if profile.system == "pos" else "Line kind"
    for key, kind in profile.line_kinds.items():
        name = profile.item_name(kind)
        out.append(
            Entry(f"line_kind:{key}", f"{what} {key}: {str(kind.item_type).replace('_', '-')} item {name!r}",
                  ITEM_KINDS[kind.item_type], _item_fields(profile, kind))
        )  # fmt: skip
    return out


def needs_sales_tax(profile: Profile) -> bool:
    """Whether the run needs sales tax turned on in QuickBooks (a US profile with tax entries)."""
    tax = profile.sales_tax
    return profile.country == "US" and any(x is not None for x in (tax.agency, tax.item, tax.taxable_code))
