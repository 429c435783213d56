"""The registry of request kinds: name -> payload model, builder, reference, description.

A kind is what the job queue stores (``customer_add`` plus a JSON payload); this module
turns it into a ``…Rq`` element or a whole document. The table of kinds names each payload
model by module and class, and :data:`KINDS` imports a module when one of its kinds is
first looked up, so a process that handles one kind does not build every model.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from lxml import etree
from pydantic import BaseModel

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


@dataclass(frozen=True, slots=True)
class _Entry:
    """A row of the table of kinds: where the payload model lives, and the rest of the kind."""

    #: The module of this package holding the payload model, e.g. ``customers``.
    module: str
    #: The payload model's class name, which is also the request's tag without ``Rq``.
    tag: str
    description: str
    body: bool
    since: str
    countries: frozenset[Country] | None


def _kind(
    name: str,
    module: str,
    tag: str,
    description: str,
    *,
    body: bool = True,
    since: str = "2.0",
    countries: frozenset[Country] | None = None,
) -> tuple[str, _Entry]:
    return name, _Entry(module, tag, description, body, since, countries)


def _family(
    prefix: str,
    module: str,
    tag: str,
    what: str,
    plural: str,
    *,
    mod_since: str = "2.0",
    add_since: str = "2.0",
) -> list[tuple[str, _Entry]]:
    return [
        _kind(f"{prefix}_add", module, f"{tag}Add", f"Create {what}.", since=add_since),
        _kind(f"{prefix}_mod", module, f"{tag}Mod", f"Change {what}.", since=mod_since),
        _kind(f"{prefix}_query", module, f"{tag}Query", f"Find {plural}.", body=False),
    ]


#: The rows of the table of kinds, in the order they are listed.
_ALL: list[tuple[str, _Entry]] = [
    *_family(
        "customer",
        "customers",
        "Customer",
        "a customer",
        "customers and jobs by ID, name or modified date",
    ),
    *_family(
        "vendor",
        "vendors",
        "Vendor",
        "a vendor (also a sales tax agency)",
        "vendors",
    ),
    *_family(
        "account",
        "accounts",
        "Account",
        "an account of the chart of accounts",
        "accounts, optionally by account type",
    ),
    *_family(
        "item_service",
        "items",
        "ItemService",
        "a service item",
        "service items",
    ),
    *_family(
        "item_non_inventory",
        "items",
        "ItemNonInventory",
        "a non-inventory item",
        "non-inventory items",
    ),
    *_family(
        "item_inventory",
        "items",
        "ItemInventory",
        "an inventory item",
        "inventory items",
    ),
    *_family(
        "item_other_charge",
        "items",
        "ItemOtherCharge",
        "an other charge item",
        "other charge items",
    ),
    *_family(
        "item_discount",
        "items",
        "ItemDiscount",
        "a discount item",
        "discount items",
    ),
    *_family(
        "sales_tax_item",
        "salestax",
        "ItemSalesTax",
        "a sales tax item (one rate paid to one agency; 0 % suits POS connectors)",
        "sales tax items",
    ),
    *_family(
        "sales_tax_group_item",
        "salestax",
        "ItemSalesTaxGroup",
        "a sales tax group item (several sales tax items charged together)",
        "sales tax group items",
    ),
    _kind("item_query", "items", "ItemQuery", "Find items of every type.", body=False),
    _kind("class_query", "queries", "ClassQuery", "Find classes.", body=False),
    _kind("terms_query", "queries", "TermsQuery", "Find terms, standard and date-driven.", body=False),
    _kind("payment_method_query", "queries", "PaymentMethodQuery", "Find payment methods.", body=False),
    *_family(
        "sales_tax_code",
        "salestax",
        "SalesTaxCode",
        "a sales tax code (taxable or not, such as Tax and Non)",
        "sales tax codes",
        add_since="7.0",
        mod_since="7.0",
    ),
    *_family(
        "invoice",
        "sales",
        "Invoice",
        "an invoice",
        "invoices by TxnID, RefNumber, customer, date or modified date",
    ),
    *_family(
        "sales_receipt",
        "sales",
        "SalesReceipt",
        "a sales receipt",
        "sales receipts",
    ),
    *_family(
        "payment",
        "payments",
        "ReceivePayment",
        "a received customer payment (applied to invoices or left unapplied)",
        "received payments",
    ),
    *_family(
        "journal_entry",
        "journal",
        "JournalEntry",
        "a journal entry (refused unless debits equal credits)",
        "journal entries",
    ),
    _kind(
        "company_query",
        "company",
        "CompanyQuery",
        "Read the company file's name, address and fiscal settings.",
        body=False,
    ),
    _kind(
        "host_query",
        "company",
        "HostQuery",
        "Read the QuickBooks product, edition, country and the qbXML versions it speaks.",
        body=False,
    ),
    _kind(
        "preferences_query",
        "company",
        "PreferencesQuery",
        "Read the company preferences, such as whether sales tax is turned on "
        "(preferences cannot be changed through qbXML).",
        body=False,
        since="3.0",
    ),
]

#: Every request kind by name: the module and class of its payload model, and the rest.
_TABLE: dict[str, _Entry] = dict(_ALL)


@functools.cache
def _load(name: str) -> RequestKind:
    """The kind called ``name``, its module of payload models imported now."""
    entry = _TABLE[name]
    model = getattr(importlib.import_module(f"{__package__}.{entry.module}"), entry.tag)
    if not (isinstance(model, type) and issubclass(model, Payload)):
        raise TypeError(f"{entry.module}.{entry.tag} is not a payload model")
    return RequestKind(
        name=name,
        payload_model=model,
        request_tag=f"{entry.tag}Rq",
        body_tag=entry.tag if entry.body else None,
        description=entry.description,
        since=entry.since,
        countries=entry.countries,
    )


class _Kinds(Mapping[str, RequestKind]):
    """Every request kind by name, each loaded when first looked up.

    Names, ``in`` and ``len`` need no payload model; looking a kind up imports only the
    module of its models (a short-lived CLI process queueing one job pays for one module).
    """

    def __getitem__(self, name: str) -> RequestKind:
        if name not in _TABLE:
            raise KeyError(name)
        return _load(name)

    def __contains__(self, name: object) -> bool:
        return name in _TABLE

    def __iter__(self) -> Iterator[str]:
        return iter(_TABLE)

    def __len__(self) -> int:
        return len(_TABLE)


#: Every request kind by name (a read-only mapping that imports a kind's models on first use).
KINDS: Mapping[str, RequestKind] = _Kinds()


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
