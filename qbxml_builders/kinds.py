"""The registry of request kinds: name -> payload model, builder, reference, description.

A kind is what the job queue stores (``customer_add`` plus a JSON payload); this module
turns it into a ``…Rq`` element or a whole document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from lxml import etree
from pydantic import BaseModel

from . import accounts, company, customers, items, journal, payments, queries, sales, salestax, vendors
from ._envelope import SERVICE_ON_ERROR, OnError, build_document
from ._fields import STORED, Payload
from ._render import Target, attributes, emit
from .errors import BuilderError, PayloadValidationError, VersionError
from .versions import DEFAULT_VERSION, Country, version_tuple


@dataclass(frozen=True, slots=True)
class RequestKind:
    """One kind of qbXML request and how to build it from its payload."""

    #: The snake_case name jobs store, e.g. ``customer_add``.
    name: str
    #: The frozen pydantic model of its payload.
    payload_model: type[BaseModel]
    #: The request element, e.g. ``CustomerAddRq``.
    request_tag: str
    #: The element inside the request that holds the fields (``CustomerAdd``); ``None`` when
    #: the fields sit directly in the request, as in queries.
    body_tag: str | None
    #: One sentence for people choosing a kind.
    description: str
    #: The first qbXML version with this request.
    since: str = "2.0"
    #: The editions that have this request; ``None`` for all.
    countries: frozenset[Country] | None = None

    def build(
        self,
        payload: BaseModel,
        *,
        version: str = DEFAULT_VERSION,
        country: Country | str = Country.US,
    ) -> etree._Element:
        """Return the ``…Rq`` element for ``payload`` (no requestID: build_document sets it)."""
        if not isinstance(payload, self.payload_model) or not isinstance(payload, Payload):
            raise BuilderError(f"{self.name} takes a {self.payload_model.__name__}, not a {type(payload).__name__}")
        target = Target.of(version, country)
        if target.key < version_tuple(self.since):
            raise VersionError(
                self.name,
                f"{self.request_tag} needs qbXML {self.since} or later; this QuickBooks speaks {target.version}",
            )
        if self.countries is not None and target.country not in self.countries:
            raise VersionError(
                self.name,
                f"{self.request_tag} does not exist in QuickBooks {target.country.value} editions",
            )
        request = etree.Element(self.request_tag, attributes(payload, target))
        body = request if self.body_tag is None else etree.SubElement(request, self.body_tag)
        emit(body, payload, target)
        return request

    def reference(self, payload: BaseModel) -> str | None:
        """A short human reference (name, RefNumber or ID) for support staff to search by."""
        return payload.reference() if isinstance(payload, Payload) else None


def _kind(
    name: str,
    model: type[Payload],
    tag: str,
    description: str,
    *,
    body: bool = True,
    since: str = "2.0",
    countries: frozenset[Country] | None = None,
) -> RequestKind:
    return RequestKind(
        name=name,
        payload_model=model,
        request_tag=f"{tag}Rq",
        body_tag=tag if body else None,
        description=description,
        since=since,
        countries=countries,
    )


def _family(
    prefix: str,
    tag: str,
    add: type[Payload],
    mod: type[Payload] | None,
    query: type[Payload],
    what: str,
    plural: str,
    *,
    mod_since: str = "2.0",
    add_since: str = "2.0",
) -> list[RequestKind]:
    out = [_kind(f"{prefix}_add", add, f"{tag}Add", f"Create {what}.", since=add_since)]
    if mod is not None:
        out.append(_kind(f"{prefix}_mod", mod, f"{tag}Mod", f"Change {what}.", since=mod_since))
    out.append(_kind(f"{prefix}_query", query, f"{tag}Query", f"Find {plural}.", body=False, since="2.0"))
    return out


_ALL: list[RequestKind] = [
    *_family(
        "customer",
        "Customer",
        customers.CustomerAdd,
        customers.CustomerMod,
        customers.CustomerQuery,
        "a customer",
        "customers and jobs by ID, name or modified date",
    ),
    *_family(
        "vendor",
        "Vendor",
        vendors.VendorAdd,
        vendors.VendorMod,
        vendors.VendorQuery,
        "a vendor (also a sales tax agency)",
        "vendors",
    ),
    *_family(
        "account",
        "Account",
        accounts.AccountAdd,
        accounts.AccountMod,
        accounts.AccountQuery,
        "an account of the chart of accounts",
        "accounts, optionally by account type",
    ),
    *_family(
        "item_service",
        "ItemService",
        items.ItemServiceAdd,
        items.ItemServiceMod,
        items.ItemServiceQuery,
        "a service item",
        "service items",
    ),
    *_family(
        "item_non_inventory",
        "ItemNonInventory",
        items.ItemNonInventoryAdd,
        items.ItemNonInventoryMod,
        items.ItemNonInventoryQuery,
        "a non-inventory item",
        "non-inventory items",
    ),
    *_family(
        "item_inventory",
        "ItemInventory",
        items.ItemInventoryAdd,
        items.ItemInventoryMod,
        items.ItemInventoryQuery,
        "an inventory item",
        "inventory items",
    ),
    *_family(
        "item_other_charge",
        "ItemOtherCharge",
        items.ItemOtherChargeAdd,
        items.ItemOtherChargeMod,
        items.ItemOtherChargeQuery,
        "an other charge item",
        "other charge items",
    ),
    *_family(
        "item_discount",
        "ItemDiscount",
        items.ItemDiscountAdd,
        items.ItemDiscountMod,
        items.ItemDiscountQuery,
        "a discount item",
        "discount items",
    ),
    *_family(
        "sales_tax_item",
        "ItemSalesTax",
        salestax.ItemSalesTaxAdd,
        salestax.ItemSalesTaxMod,
        salestax.ItemSalesTaxQuery,
        "a sales tax item (one rate paid to one agency; 0 % suits POS connectors)",
        "sales tax items",
    ),
    *_family(
        "sales_tax_group_item",
        "ItemSalesTaxGroup",
        salestax.ItemSalesTaxGroupAdd,
        salestax.ItemSalesTaxGroupMod,
        salestax.ItemSalesTaxGroupQuery,
        "a sales tax group item (several sales tax items charged together)",
        "sales tax group items",
    ),
    _kind("item_query", items.ItemQuery, "ItemQuery", "Find items of every type.", body=False),
    _kind("class_query", queries.ClassQuery, "ClassQuery", "Find classes.", body=False),
    _kind("terms_query", queries.TermsQuery, "TermsQuery", "Find terms, standard and date-driven.", body=False),
    _kind(
        "payment_method_query", queries.PaymentMethodQuery, "PaymentMethodQuery", "Find payment methods.", body=False
    ),
    *_family(
        "sales_tax_code",
        "SalesTaxCode",
        salestax.SalesTaxCodeAdd,
        salestax.SalesTaxCodeMod,
        salestax.SalesTaxCodeQuery,
        "a sales tax code (taxable or not, such as Tax and Non)",
        "sales tax codes",
        add_since="7.0",
        mod_since="7.0",
    ),
    *_family(
        "invoice",
        "Invoice",
        sales.InvoiceAdd,
        sales.InvoiceMod,
        sales.InvoiceQuery,
        "an invoice",
        "invoices by TxnID, RefNumber, customer, date or modified date",
    ),
    *_family(
        "sales_receipt",
        "SalesReceipt",
        sales.SalesReceiptAdd,
        sales.SalesReceiptMod,
        sales.SalesReceiptQuery,
        "a sales receipt",
        "sales receipts",
    ),
    *_family(
        "payment",
        "ReceivePayment",
        payments.ReceivePaymentAdd,
        payments.ReceivePaymentMod,
        payments.ReceivePaymentQuery,
        "a received customer payment (applied to invoices or left unapplied)",
        "received payments",
    ),
    *_family(
        "journal_entry",
        "JournalEntry",
        journal.JournalEntryAdd,
        journal.JournalEntryMod,
        journal.JournalEntryQuery,
        "a journal entry (refused unless debits equal credits)",
        "journal entries",
    ),
    _kind(
        "company_query",
        company.CompanyQuery,
        "CompanyQuery",
        "Read the company file's name, address and fiscal settings.",
        body=False,
    ),
    _kind(
        "host_query",
        company.HostQuery,
        "HostQuery",
        "Read the QuickBooks product, edition, country and the qbXML versions it speaks.",
        body=False,
    ),
    _kind(
        "preferences_query",
        company.PreferencesQuery,
        "PreferencesQuery",
        "Read the company preferences, such as whether sales tax is turned on "
        "(preferences cannot be changed through qbXML).",
        body=False,
        since="3.0",
    ),
]

#: Every request kind by name.
KINDS: dict[str, RequestKind] = {kind.name: kind for kind in _ALL}


def get_kind(kind: str) -> RequestKind:
    """Return the kind called ``kind`` or raise BuilderError naming the known ones."""
    try:
        return KINDS[kind]
    except KeyError:
        raise BuilderError(f"{kind!r} is not a request kind; known kinds: {', '.join(sorted(KINDS))}") from None


def format_errors(exc: pydantic.ValidationError) -> list[str]:
    """Pydantic errors as ``"path: message"`` sentences, the path naming the field."""
    out: list[str] = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(p) for p in error["loc"])
        message = error["msg"]
        if error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
            head, sep, rest = message.partition(": ")
            if sep and head.replace(".", "").replace("_", "").isalnum() and " " not in head:
                path = f"{path}.{head}" if path else head
                message = rest
        elif error["type"] == "string_too_long":
            limit = error.get("ctx", {}).get("max_length")
            message = f"must be at most {limit} characters (QuickBooks' limit)"
        elif error["type"] == "extra_forbidden":
            message = "is not a field of this request"
        out.append(f"{path or '(payload)'}: {message}")
    return out


def validate_payload(kind: str, data: Mapping[str, Any] | BaseModel, *, stored: bool = False) -> BaseModel:
    """Validate ``data`` as the payload of ``kind``; PayloadValidationError lists every fault.

    ``stored``: ``data`` is a payload validated before and kept as its JSON dump
    (``model_dump(mode="json")``), read back to be built, as a queue does. Types, lengths
    and fields are checked as ever; the checks whose result a dump keeps (the rules across
    fields, the fixed-point numbers' places, the characters XML can carry) are not run
    again, and the numbers keep the normalised form they were dumped in.
    """
    spec = get_kind(kind)
    if isinstance(data, spec.payload_model):
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump()
    try:
        return spec.payload_model.model_validate(data, context=STORED if stored else None)
    except pydantic.ValidationError as exc:
        raise PayloadValidationError(kind, format_errors(exc)) from exc


def kinds_json_schema() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every kind's payload, by kind name."""
    return {name: spec.payload_model.model_json_schema() for name, spec in sorted(KINDS.items())}


def build_request(
    kind: str,
    data: Mapping[str, Any] | BaseModel,
    *,
    version: str = DEFAULT_VERSION,
    country: Country | str = Country.US,
) -> etree._Element:
    """Validate ``data`` for ``kind`` and return its ``…Rq`` element."""
    return get_kind(kind).build(validate_payload(kind, data), version=version, country=country)


def preview(
    kind: str,
    data: Mapping[str, Any] | BaseModel,
    *,
    version: str = DEFAULT_VERSION,
    country: Country | str = Country.US,
    on_error: OnError = SERVICE_ON_ERROR,
) -> bytes:
    """A complete qbXML document holding this one request, with requestID ``1``.

    Byte for byte what the service sends for a job of ``kind`` with this payload, but for
    the requestID (the service sends the job's id).
    """
    element = build_request(kind, data, version=version, country=country)
    return build_document([("1", element)], version=version, on_error=on_error)
