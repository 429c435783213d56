"""The job kinds of a setup run: the preferences check, and an ensure that records the mapping.

- ``setup_preferences`` reads the company's preferences (its own PreferencesQuery). When
  the run needs sales tax and QuickBooks has it off (no ``SalesTaxPreferences``), the job
  waits for the next session (:class:`~qbwc_service.queue.steps.Later`) with what a person
  must do; the run's other jobs depend on it, so nothing else is sent meanwhile. It is a
  multi-step kind, so no dependent follows it in the same message.
- ``setup_ensure`` wraps an ``…_ensure`` job (``{"entry", "ensure", "fields", "create"}``):
  the ensure kind does the work; when it is done, the entry's ListID goes to the resolved
  mapping in the same transaction (:mod:`.mapping`), and the result says whether it was
  ``added`` or ``already`` in QuickBooks. With ``"create": false`` a missing entry fails
  the step instead of being added. At the Add a dependent may follow it in the same
  message, as after the ensure it wraps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from qbwc_service.db.prepared import Executor
from qbwc_service.errors import PayloadError
from qbwc_service.queue.kinds import (
    Done,
    Failed,
    JobKind,
    Later,
    Next,
    Step,
    StepState,
    creates,
    get_kind,
    register,
)
from qbwc_service.workflows.setup import mapping
from qbxml_builders import QBResponse

PREFERENCES = "setup_preferences"
ENSURE = "setup_ensure"

#: What a person does when sales tax is off: qbXML cannot change preferences.
SALES_TAX_STEPS = "In QuickBooks: Edit → Preferences → Sales Tax → Company Preferences → Do you charge sales tax? → Yes"
SALES_TAX_OFF = (
    f"Sales tax is turned off in this QuickBooks company file. {SALES_TAX_STEPS}. "
    "Setup checks again by itself at the next Web Connector run; nothing else was sent."
)

#: The ensure kinds a setup step may wrap.
ENSURE_KINDS = frozenset({
    "account_ensure", "vendor_ensure", "sales_tax_code_ensure", "sales_tax_item_ensure", "item_service_ensure",
    "item_non_inventory_ensure", "item_other_charge_ensure", "item_discount_ensure",
})  # fmt: skip


# -- the preferences check ---------------------------------------------------------------


def _validate_preferences(payload: Mapping[str, Any]) -> dict[str, Any]:
    problems = [f"{k}: not a field of this kind" for k in sorted(set(payload) - {"country", "sales_tax"})]
    country, sales_tax = payload.get("country", "US"), payload.get("sales_tax", False)
    if country not in ("US", "CA", "UK"):
        problems.append("country: US, CA or UK")
    if not isinstance(sales_tax, bool):
        problems.append("sales_tax: true or false (whether the run needs sales tax turned on)")
    if problems:
        raise PayloadError(PREFERENCES, problems)
    return {"country": country, "sales_tax": sales_tax}


def _preferences_request(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
    wanted = payload.get("country", "US")
    if country.upper() != wanted:
        raise PayloadError(
            PREFERENCES,
            [f"this company's QuickBooks is the {country.upper()} edition, but its integration profile is for "
             f"{wanted}: set the profile's country to {country.upper()!r} (and what that country supports), then "
             "run setup again"],
        )  # fmt: skip
    return etree.Element("PreferencesQueryRq")


def _preferences_answer(state: StepState, response: QBResponse) -> Step:
    ret = state.answer.find("PreferencesRet") if state.answer is not None else None
    tax = ret.find("SalesTaxPreferences") if ret is not None else None
    if tax is None and state.payload.get("sales_tax"):
        return Later(SALES_TAX_OFF)
    facts: dict[str, Any] = {"sales_tax": tax is not None}
    if tax is not None:
        for tag, key in (("DefaultItemSalesTaxRef", "default_tax_item"),
                         ("DefaultTaxableSalesTaxCodeRef", "default_taxable_code"),
                         ("DefaultNonTaxableSalesTaxCodeRef", "default_non_taxable_code")):  # fmt: skip
            name = tax.findtext(f"{tag}/FullName")
            if name:
                facts[key] = name
    return Done(facts, "sales tax is on in QuickBooks" if tax is not None else "preferences read")


PREFERENCES_KIND = JobKind(
    PREFERENCES,
    "Read the company's preferences before setup: with sales tax off, wait (and say what to do) until it is on.",
    _validate_preferences,
    _preferences_request,
    lambda payload: "preferences",
    steps=lambda state, version, country: _preferences_request(state.payload, version, country),
    take_answer=_preferences_answer,
    schema=lambda: {
        "type": "object",
        "properties": {"country": {"enum": ["US", "CA", "UK"]}, "sales_tax": {"type": "boolean"}},
        "additionalProperties": False,
    },
)


# -- the ensure step ---------------------------------------------------------------------


def _inner(payload: Mapping[str, Any]) -> JobKind:
    return get_kind(str(payload["ensure"]))


def _validate_ensure(payload: Mapping[str, Any]) -> dict[str, Any]:
    problems = [
        f"{k}: not a field of this kind" for k in sorted(set(payload) - {"entry", "ensure", "fields", "create"})
    ]
    entry, ensure, fields, create = (payload.get(k) for k in ("entry", "ensure", "fields", "create"))
    if not isinstance(entry, str) or not 0 < len(entry) <= 80:
        problems.append("entry: the profile entry's key (1 to 80 characters) is required")
    if ensure not in ENSURE_KINDS:
        problems.append(f"ensure: one of {', '.join(sorted(ENSURE_KINDS))}")
    if not isinstance(fields, Mapping):
        problems.append("fields: the ensure job's payload (an object) is required")
    if create is not None and not isinstance(create, bool):
        problems.append("create: true or false")
    if problems:
        raise PayloadError(ENSURE, problems)
    assert isinstance(fields, Mapping)
    try:
        clean = _inner(payload).validate(fields)
    except PayloadError as exc:
        raise PayloadError(ENSURE, [f"fields.{e}" for e in exc.errors]) from exc
    return {"entry": entry, "ensure": ensure, "fields": clean, "create": create is not False}


def _fields(state: StepState) -> StepState:
    return dataclasses.replace(state, payload=state.payload["fields"])


def _ensure_request(state: StepState, version: str, country: str) -> etree._Element:
    return _inner(state.payload).next_request(_fields(state), version, country)


def _ensure_final(state: StepState) -> bool:
    return _inner(state.payload).leads(_fields(state))


def _ensure_answer(state: StepState, response: QBResponse) -> Step:
    payload = state.payload
    step = _inner(payload).take_answer(_fields(state), response)
    name = payload["fields"].get("name")
    if isinstance(step, Next) and step.progress.get("phase") == "add" and not payload.get("create", True):
        return Failed(
            f"{name!r} is not in QuickBooks, and the profile says not to create it ({payload['entry']}): add it in "
            "QuickBooks, or name one that exists, then run setup again."
        )
    if not isinstance(step, Done):
        return step
    added = (state.progress or {}).get("phase") == "add"
    result = {**(step.result or {}), "setup": "added" if added else "already"}
    record = {"entry": payload["entry"], "ListID": result.get("ListID"), "FullName": result.get("FullName") or name}
    return Done(result, step.message, records=(record,))


class MappingSink:
    """Where a setup step's outcome goes: the company's resolved mapping, in the settling transaction."""

    def keep(self, kept: Mapping[str, Any] | None, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Nothing is carried between steps."""
        return dict(kept or {})

    def store(self, conn: Executor, job_id: int, records: Sequence[Mapping[str, Any]]) -> None:
        """Record the ListID of the entry (see :func:`.mapping.record`)."""
        mapping.record(conn, job_id, records)

    def result(self, kept: Mapping[str, Any] | None) -> dict[str, Any]:
        """Not an iterated query: no result of its own."""
        return {}


ENSURE_KIND = JobKind(
    ENSURE,
    "One entry of a company's setup: make sure it is in QuickBooks (an …_ensure job) and record its ListID.",
    _validate_ensure,
    lambda payload, version, country: _inner(payload).build(payload["fields"], version, country),
    lambda payload: f"{payload['entry']}: {payload['fields'].get('name')}"[:200],
    steps=_ensure_request,
    take_answer=_ensure_answer,
    reads_status=frozenset({3100}),
    sink=MappingSink(),
    creates=lambda payload: creates(str(payload["ensure"]), payload["fields"]),
    final=_ensure_final,
    schema=lambda: {
        "type": "object",
        "properties": {
            "entry": {"type": "string", "minLength": 1, "maxLength": 80},
            "ensure": {"enum": sorted(ENSURE_KINDS)},
            "fields": {"type": "object", "description": "The payload of the ensure kind."},
            "create": {"type": "boolean", "default": True},
        },
        "required": ["entry", "ensure", "fields"],
        "additionalProperties": False,
    },
)


def register_kinds() -> None:
    """Add the setup kinds to the job-kind registry (harmless when done again)."""
    register(PREFERENCES_KIND)
    register(ENSURE_KIND)
