"""``…_ensure`` kinds: make sure a list entry exists, adopting the one QuickBooks already has.

An ensure job takes the payload of the family's ``…_add`` kind and runs as up to three steps:

1. it queries the entry by FullName (:func:`full_name_of`; items through ``ItemQueryRq``,
   which finds an item of any type);
2. found: it is done with the existing ListID, after comparing the fields the job gives
   (:data:`FIELDS`): a *harmless* difference is recorded as a warning, a *key* difference
   (another account type, another item type, another tax rate) fails the job, because later
   work would break on it. Missing (status 1): it sends the Add;
3. an Add answered 3100 (someone created the entry in between) is queried again and
   adopted by the same rules.

At its Add step a dependent may follow it in the same message (:attr:`.JobKind.final`):
whether the Add succeeds or answers 3100, the name exists when the dependent is read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from qbwc_service.errors import PayloadError, Unverifiable
from qbwc_service.queue.refs import is_job_ref
from qbwc_service.queue.steps import Done, Failed, JobKind, Next, Step, StepState, typed_clean, typed_model
from qbxml_builders import QBResponse
from qbxml_builders.kinds import KINDS, RequestKind, build_request
from qbxml_builders.queries import ListQuery
from qbxml_builders.responses import ret_to_dict

#: QuickBooks' status for an Add whose name is taken.
NAME_TAKEN = 3100
#: The identifiers an ensure job records, as an Add's job does.
_ID_KEYS = ("ListID", "EditSequence", "FullName", "Name")


@dataclass(frozen=True, slots=True)
class Compared:
    """One field an ensure job compares with the entry found."""

    #: Where the value sits in the payload (``("sales_or_purchase", "price")``).
    path: tuple[str, ...]
    #: Where it sits in the ``…Ret`` element (``SalesOrPurchase/Price``).
    ret: str
    #: A key field: a difference fails the job. Otherwise it is recorded as a warning.
    key: bool = False

    @property
    def label(self) -> str:
        """The field as the job names it."""
        return ".".join(self.path)


def _key(*path: str, ret: str) -> Compared:
    return Compared(path, ret, key=True)


def _harmless(*path: str, ret: str) -> Compared:
    return Compared(path, ret)


_TWO_SIDED = (
    _harmless("sales_or_purchase", "desc", ret="SalesOrPurchase/Desc"),
    _harmless("sales_or_purchase", "price", ret="SalesOrPurchase/Price"),
    _harmless("sales_or_purchase", "account_ref", ret="SalesOrPurchase/AccountRef"),
    _harmless("sales_and_purchase", "sales_desc", ret="SalesAndPurchase/SalesDesc"),
    _harmless("sales_and_purchase", "sales_price", ret="SalesAndPurchase/SalesPrice"),
    _harmless("sales_and_purchase", "purchase_desc", ret="SalesAndPurchase/PurchaseDesc"),
    _harmless("sales_and_purchase", "purchase_cost", ret="SalesAndPurchase/PurchaseCost"),
)

#: Per list family (the ``…_add`` kind's prefix): the fields compared with an entry found,
#: key or harmless. Fields not listed are not compared. For items the item's type is a key
#: field too (an ``ItemQueryRq`` finds items of every type).
FIELDS: dict[str, tuple[Compared, ...]] = {
    "customer": (
        _harmless("company_name", ret="CompanyName"),
        _harmless("first_name", ret="FirstName"),
        _harmless("last_name", ret="LastName"),
        _harmless("email", ret="Email"),
        _harmless("phone", ret="Phone"),
    ),
    "vendor": (
        # A sales tax item paying an agency that is not one would be refused.
        _key("is_sales_tax_agency", ret="IsSalesTaxAgency"),
        _harmless("company_name", ret="CompanyName"),
        _harmless("email", ret="Email"),
        _harmless("phone", ret="Phone"),
        _harmless("name_on_check", ret="NameOnCheck"),
    ),
    "account": (
        _key("account_type", ret="AccountType"),
        _harmless("account_number", ret="AccountNumber"),
        _harmless("desc", ret="Desc"),
    ),
    "item_service": _TWO_SIDED,
    "item_non_inventory": _TWO_SIDED,
    "item_other_charge": _TWO_SIDED,
    "item_inventory": (
        _harmless("sales_desc", ret="SalesDesc"),
        _harmless("sales_price", ret="SalesPrice"),
        _harmless("purchase_desc", ret="PurchaseDesc"),
        _harmless("purchase_cost", ret="PurchaseCost"),
    ),
    "item_discount": (
        _harmless("item_desc", ret="ItemDesc"),
        _harmless("discount_rate", ret="DiscountRate"),
        _harmless("discount_rate_percent", ret="DiscountRatePercent"),
    ),
    "sales_tax_item": (
        _key("tax_rate", ret="TaxRate"),
        _key("tax_vendor_ref", ret="TaxVendorRef"),
        _harmless("item_desc", ret="ItemDesc"),
    ),
    "sales_tax_group_item": (_harmless("item_desc", ret="ItemDesc"),),
    "sales_tax_code": (
        _key("is_taxable", ret="IsTaxable"),
        _harmless("desc", ret="Desc"),
    ),
}


def full_name_of(payload: Mapping[str, Any]) -> str | None:
    """The FullName a list Add creates (``Parent:Name``), or None when it gives no name.

    Raises :class:`Unverifiable` when the parent is given by ListID only: its FullName is
    unknown here.
    """
    name = payload.get("name")
    if not name:
        return None
    parent = payload.get("parent_ref")
    if parent is None:
        return str(name)
    parent_name = parent.get("full_name") if isinstance(parent, Mapping) else None
    if not parent_name:
        raise Unverifiable
    return f"{parent_name}:{name}"


def _is_item(prefix: str) -> bool:
    return prefix.startswith("item_") or (prefix.startswith("sales_tax_") and prefix.endswith("_item"))


@functools.cache
def list_family(prefix: str) -> RequestKind | None:
    """The ``…_add`` kind of the list family ``prefix`` (its ``…_query`` is a list query), or None."""
    add, query = KINDS.get(f"{prefix}_add"), KINDS.get(f"{prefix}_query")
    if add is None or query is None or not issubclass(query.payload_model, ListQuery):
        return None
    return add


def find_query(prefix: str, full_name: str, version: str, country: str) -> etree._Element:
    """The query that finds the entry of a list family by FullName (an item of any type for items)."""
    if _is_item(prefix):
        element = etree.Element("ItemQueryRq")
        etree.SubElement(element, "FullName").text = full_name
        return element
    return build_request(f"{prefix}_query", {"full_names": [full_name]}, version=version, country=country)


def _value_at(payload: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = payload
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _same(wanted: Any, found: etree._Element | None) -> tuple[bool, str]:
    """Whether the job's value matches the element found, and the found value as shown."""
    if found is None:
        return False, "not set"
    if isinstance(wanted, Mapping):  # a reference: by full name or by ListID
        if wanted.get("full_name"):
            shown = found.findtext("FullName") or found.findtext("ListID") or ""
            return shown.casefold() == str(wanted["full_name"]).casefold(), shown
        shown = found.findtext("ListID") or ""
        return shown == str(wanted.get("list_id")), shown
    text = (found.text or "").strip()
    if isinstance(wanted, bool):
        return text.lower() == ("true" if wanted else "false"), text
    try:
        return Decimal(str(wanted)) == Decimal(text), text
    except InvalidOperation:
        return text == str(wanted).strip(), text


def differences(prefix: str, payload: Mapping[str, Any], ret: etree._Element) -> tuple[list[str], list[str]]:
    """The key and the harmless differences between a job's payload and the entry found, as sentences."""
    key: list[str] = []
    harmless: list[str] = []
    spec = KINDS[f"{prefix}_add"]
    if _is_item(prefix):
        expected = spec.request_tag.removesuffix("AddRq") + "Ret"
        if ret.tag != expected:
            key.append(
                f"it is an item of another type ({str(ret.tag).removesuffix('Ret')}, not "
                f"{expected.removesuffix('Ret')})"
            )
    for field in FIELDS.get(prefix, ()):
        wanted = _value_at(payload, field.path)
        if wanted is None:
            continue
        same, shown = _same(wanted, ret.find(field.ret))
        if not same:
            wanted_shown = wanted.get("full_name") or wanted.get("list_id") if isinstance(wanted, Mapping) else wanted
            text = f"{field.label} is {shown!r} in QuickBooks, {wanted_shown!r} in the job"
            (key if field.key else harmless).append(text)
    return key, harmless


def _found(answer: etree._Element | None) -> etree._Element | None:
    if answer is None:
        return None
    return next((c for c in answer if isinstance(c.tag, str) and c.tag.endswith("Ret")), None)


def adopt(
    prefix: str, full_name: str, payload: Mapping[str, Any], ret: etree._Element, *, added_meanwhile: bool
) -> Step:
    """The outcome of finding the entry: done (with warnings) or failed on a key difference."""
    record = ret_to_dict(ret)
    ids = {k: str(record[k]) for k in _ID_KEYS if k in record}
    key, harmless = differences(prefix, payload, ret)
    where = f"{full_name!r} (ListID {ids.get('ListID', '?')})"
    how = "was created in QuickBooks meanwhile" if added_meanwhile else "is already in QuickBooks"
    if key:
        return Failed(
            f"{where} {how} but differs where later work depends on it: {'; '.join(key)}. "
            "Correct the entry in QuickBooks or the job, then retry."
        )
    if harmless:
        return Done(
            {**ids, "warnings": harmless},
            f"{where} {how}: adopted as it is, with harmless differences: {'; '.join(harmless)}",
        )
    return Done(ids, f"{where} {how}: adopted")


def ensure_kind(prefix: str, add: RequestKind) -> JobKind:
    """The ``{prefix}_ensure`` kind over the family's ``…_add`` kind."""
    name = f"{prefix}_ensure"

    def validate(payload: Mapping[str, Any]) -> dict[str, Any]:
        clean = typed_clean(add, payload, as_kind=name)
        try:
            full_name_of(clean)
        except Unverifiable:
            by_job = is_job_ref(clean.get("parent_ref"))
            raise PayloadError(
                name,
                [
                    "parent_ref: give the parent's full_name: an ensure looks the entry up by its full name"
                    + (
                        " (a job's ref gives its ListID only; a job queued to create that name is waited for all the "
                        "same)"
                        if by_job
                        else ""
                    )
                ],
            ) from None
        return clean

    def full_name(payload: Mapping[str, Any]) -> str:
        found = full_name_of(payload)
        if found is None:
            raise PayloadError(name, ["name: required"])
        return found

    def first(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
        return find_query(prefix, full_name(payload), version, country)

    def steps(state: StepState, version: str, country: str) -> etree._Element:
        if _phase(state) == "add":
            model = typed_model(add, state.payload, as_kind=name, stored=True)
            return add.build(model, version=version, country=country)
        return first(state.payload, version, country)

    def take_answer(state: StepState, response: QBResponse) -> Step:
        phase = _phase(state)
        wanted = full_name(state.payload)
        if phase == "add":
            if response.status_code == NAME_TAKEN:
                return Next(
                    {"phase": "requery"},
                    f"QuickBooks already has {wanted!r} (status 3100: it was created since it was looked up): "
                    "looking it up again to adopt it",
                )
            return Done(response.ids() or None, f"{wanted!r} was not in QuickBooks: added")
        ret = _found(state.answer)
        if ret is not None:
            return adopt(prefix, wanted, state.payload, ret, added_meanwhile=phase == "requery")
        if phase == "requery":
            return Failed(
                f"QuickBooks refused to add {wanted!r} because the name is taken (status 3100), yet no "
                f"{prefix.replace('_', ' ')} of that name is found: another kind of list entry (a customer, "
                "vendor, employee or other name) probably has it. Rename one of them, then retry."
            )
        return Next({"phase": "add"}, f"{wanted!r} is not in QuickBooks: adding it")

    return JobKind(
        name,
        f"Make sure {add.description.removeprefix('Create ').rstrip('.')} exists: adopt the one of that "
        "full name, or add it.",
        validate,
        first,
        lambda payload: full_name_of(payload),
        steps=steps,
        take_answer=take_answer,
        reads_status=frozenset({NAME_TAKEN}),
        schema=add.payload_model.model_json_schema,
        final=is_add_step,
    )


def is_add_step(state: StepState) -> bool:
    """Whether the ensure's current step is its Add: answered OK or 3100, the name is in QuickBooks.

    A dependent that refers to the entry by name may therefore follow it in the same message;
    any other failure of the Add is put down to it (:func:`.outcomes.put_down_to_dependencies`).
    """
    return _phase(state) == "add"


def _phase(state: StepState) -> str:
    """``query`` (the first look), ``add``, or ``requery`` (after a 3100)."""
    phase = (state.progress or {}).get("phase")
    return phase if phase in ("add", "requery") else "query"


@functools.cache
def ensure_kind_named(name: str) -> JobKind | None:
    """The ``…_ensure`` kind called ``name``, or None when no list family has one.

    Only the family's own payload models are loaded.
    """
    prefix = name.removesuffix("_ensure")
    add = list_family(prefix) if prefix != name else None
    return None if add is None else ensure_kind(prefix, add)


def ensure_kinds() -> tuple[JobKind, ...]:
    """An ``…_ensure`` kind for every list family of :mod:`qbxml_builders`, by prefix."""
    names = sorted(f"{name.removesuffix('_add')}_ensure" for name in KINDS if name.endswith("_add"))
    return tuple(kind for name in names if (kind := ensure_kind_named(name)) is not None)
