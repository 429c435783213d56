"""Lost replies: ask QuickBooks whether it already holds what an Add creates before sending it again.

When the reply to a request is lost, :func:`.jobs.release` marks the job (:func:`.jobs.lost_reply_mark`).
Before such an Add is sent again, :func:`check_for` builds a query for the record it would
create: a list entry by FullName, a transaction by RefNumber. A transaction found must also
reference the job's customer or vendor, carry its TxnDate when the job gives one, and for
a journal entry add up to the same debits: RefNumbers repeat, and adopting someone else's
record would lose the job. :func:`found_in` reads QuickBooks' answer to that query.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from qbwc_service.errors import Unverifiable
from qbwc_service.queue import ensure
from qbwc_service.queue.jobs import LOST_REPLY
from qbwc_service.queue.kinds import build_request, raw_request
from qbxml_builders.kinds import KINDS
from qbxml_builders.responses import ret_to_dict

#: The reference fields that name a transaction's entity: payload field, qbXML element.
_ENTITY_REFS = (("customer_ref", "CustomerRef"), ("vendor_ref", "VendorRef"))
#: The identifiers a job keeps from the record found.
_ID_KEYS = ("ListID", "TxnID", "EditSequence", "FullName", "Name", "RefNumber")


@dataclass(frozen=True, slots=True)
class Check:
    """The query that looks for an Add's record, and what a found transaction must reference."""

    #: The ``…QueryRq`` element, without requestID.
    query: etree._Element
    #: ``{"tag": "CustomerRef", "ListID" or "FullName": value}``, or None when any match will do.
    entity: dict[str, str] | None
    #: What a found transaction must also show: ``TxnDate``, and ``debits`` (a journal
    #: entry's total of debit lines); None when nothing more is known.
    expect: dict[str, str] | None = None


def needs_check(progress: Mapping[str, Any] | None) -> bool:
    """Whether the job's last request may have been applied without its reply reaching us."""
    return bool(progress and progress.get(LOST_REPLY))


def checking(progress: Mapping[str, Any] | None) -> bool:
    """Whether the job's request in flight is the query of a :class:`Check`."""
    return bool(progress and progress.get("checking"))


def progress_of(check: Check) -> dict[str, Any]:
    """The ``progress`` a job carries while its check is in flight."""
    return {LOST_REPLY: True, "checking": True, "entity": check.entity, "expect": check.expect}


@functools.cache
def _query_kinds() -> dict[str, str]:
    """Typed query kinds by request tag (``CustomerQueryRq`` → ``customer_query``)."""
    return {spec.request_tag: name for name, spec in KINDS.items() if name.endswith("_query")}


def _entity_of_payload(payload: Mapping[str, Any]) -> dict[str, str] | None:
    for field, tag in _ENTITY_REFS:
        ref = payload.get(field)
        if isinstance(ref, Mapping):
            if ref.get("list_id"):
                return {"tag": tag, "ListID": str(ref["list_id"])}
            if ref.get("full_name"):
                return {"tag": tag, "FullName": str(ref["full_name"])}
    return None


def _entity_of_element(body: etree._Element) -> dict[str, str] | None:
    for _, tag in _ENTITY_REFS:
        ref = body.find(tag)
        if ref is not None:
            if ref.findtext("ListID"):
                return {"tag": tag, "ListID": str(ref.findtext("ListID"))}
            if ref.findtext("FullName"):
                return {"tag": tag, "FullName": str(ref.findtext("FullName"))}
    return None


def _full_name(name: str, parent_full_name: str | None, parent_given: bool) -> str:
    if parent_given and not parent_full_name:
        raise Unverifiable  # a parent by ListID only: its FullName is unknown here
    return f"{parent_full_name}:{name}" if parent_full_name else name


def check_for(kind: str, payload: Mapping[str, Any], version: str, country: str) -> Check | None:
    """The check to make before sending this job again, or None when it is not an Add.

    Raises :class:`Unverifiable` for an Add with neither a name nor a RefNumber to look for.
    """
    if kind == "qbxml":
        element = raw_request(payload)
        tag = str(element.tag)
        if not tag.endswith("AddRq"):
            return None
        body = next((c for c in element if isinstance(c.tag, str)), element)
        query_tag = tag[: -len("AddRq")] + "QueryRq"
        name, ref_number = body.findtext("Name"), body.findtext("RefNumber")
        parent = body.find("ParentRef")
        parent_name = parent.findtext("FullName") if parent is not None else None
        entity = _entity_of_element(body)
        if name:
            name = _full_name(name, parent_name, parent is not None)
        txn_date = body.findtext("TxnDate")
        debits = (
            [a.text or "" for a in body.iterfind("JournalDebitLine/Amount")] if tag == "JournalEntryAddRq" else None
        )
    else:
        if not kind.endswith("_add") or kind not in KINDS:
            return None
        query_tag = KINDS[kind].request_tag[: -len("AddRq")] + "QueryRq"
        name, ref_number = ensure.full_name_of(payload), payload.get("ref_number")
        entity = _entity_of_payload(payload)
        txn_date = payload.get("txn_date")
        lines = payload.get("lines") or []
        debits = (
            [str(ln.get("amount")) for ln in lines if ln.get("side") == "debit"]
            if kind == "journal_entry_add"
            else None
        )
    if name:
        return Check(_query(query_tag, "FullName", name, version, country), None)
    if ref_number:
        expect = {"TxnDate": str(txn_date)} if txn_date else {}
        if debits is not None:
            expect["debits"] = str(_total(debits))
        query = _query(query_tag, "RefNumber", str(ref_number), version, country, lines=debits is not None)
        return Check(query, entity, expect or None)
    raise Unverifiable


def _total(amounts: list[str]) -> Decimal:
    """The sum of money amounts; one that is not a number makes the sum match nothing."""
    try:
        return sum((Decimal(a) for a in amounts), Decimal(0))
    except InvalidOperation:
        return Decimal("NaN")


def _query(tag: str, field: str, value: str, version: str, country: str, *, lines: bool = False) -> etree._Element:
    """``<…QueryRq><FullName|RefNumber>value</…></…QueryRq>``, typed when qbxml_builders knows the query.

    ``lines``: ask for the line items too (a journal entry's debits are compared).
    """
    typed = _query_kinds().get(tag)
    if typed is not None:
        key = "full_names" if field == "FullName" else "ref_numbers"
        query: dict[str, Any] = {key: [value]}
        if lines:
            query["include_line_items"] = True
        return build_request(typed, query, version, country)
    element = etree.Element(tag)
    etree.SubElement(element, field).text = value
    if lines:
        etree.SubElement(element, "IncludeLineItems").text = "true"
    return element


def found_in(rs: etree._Element, progress: Mapping[str, Any]) -> dict[str, str] | None:
    """The ids of the record a check's answer holds (matching its entity), or None."""
    entity, expect = progress.get("entity"), progress.get("expect")
    for ret in rs:
        if not isinstance(ret.tag, str) or not ret.tag.endswith("Ret"):
            continue
        if entity and not _references(ret, entity):
            continue
        if expect and not _shows(ret, expect):
            continue
        found = ret_to_dict(ret)
        return {k: str(found[k]) for k in _ID_KEYS if k in found}
    return None


def _references(ret: etree._Element, entity: Mapping[str, str]) -> bool:
    ref = ret.find(entity["tag"])
    if ref is None:
        return False
    if "ListID" in entity:
        return ref.findtext("ListID") == entity["ListID"]
    return (ref.findtext("FullName") or "").casefold() == entity["FullName"].casefold()


def _shows(ret: etree._Element, expect: Mapping[str, str]) -> bool:
    """Whether a found transaction has the job's date and (a journal entry) its debits."""
    if "TxnDate" in expect and ret.findtext("TxnDate") != expect["TxnDate"]:
        return False
    if "debits" in expect:
        found = _total([a.text or "" for a in ret.iterfind("JournalDebitLine/Amount")])
        return found == Decimal(expect["debits"])
    return True
