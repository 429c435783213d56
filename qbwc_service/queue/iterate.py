"""Iterated ``…_query`` kinds: a query job that pages through its answer, one page a round trip.

A query job with ``"iterate": true`` (and optionally ``max_returned``, the page size;
otherwise the ``QBWC_ITERATOR_PAGE`` setting) runs as steps:

- on qbXML 5.0 or later it sends ``iterator="Start"`` with MaxReturned, then
  ``iterator="Continue"`` with the iteratorID in the following round trips of the same
  session, until ``iteratorRemainingCount`` is 0;
- iterators live for one QuickBooks session, so ``progress`` records the ticket the
  iterator belongs to. A job that comes back in another session (or whose iterator
  expired, status 3391) starts the query again, from a bound where the query allows it:
  list queries after the last FullName received (``NameRangeFilter``), transaction queries
  from the last TimeModified received less :data:`OVERLAP` (``ModifiedDateRangeFilter``).
  A bound is used only when the pages so far came in that order and the job sets no filter
  of that field itself; otherwise the query starts from the beginning. Records already
  received are not taken twice (:class:`ResultSink` keeps each id once);
- below qbXML 5.0 (no iterators), and for a list query without iterators (``AccountQuery``,
  ``SalesTaxCodeQuery``: a workflow may page them, see :func:`query_kind`), it pages by the
  same bounds, MaxReturned at a time.

Each page goes to the kind's :class:`~.steps.PageSink`: :class:`ResultSink` (the first one)
collects the records in the job's result, up to :data:`RESULT_LIMIT`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lxml import etree

from qbwc_service.errors import PayloadError
from qbwc_service.queue.refs import stand_in
from qbwc_service.queue.steps import (
    Done,
    Failed,
    JobKind,
    Next,
    PageSink,
    SinkFull,
    Step,
    StepState,
    typed_clean,
    typed_model,
)
from qbxml_builders import QBResponse
from qbxml_builders.kinds import RequestKind
from qbxml_builders.queries import ListQuery
from qbxml_builders.versions import version_tuple

if TYPE_CHECKING:
    from qbwc_service.db.prepared import Executor

#: QuickBooks' status for an iteratorID it does not know (expired, or from another session).
ITERATOR_EXPIRED = 3391
#: The first qbXML version with iterators.
ITERATORS_SINCE = (5, 0)
#: How far before the last TimeModified received a restarted transaction query starts.
OVERLAP = timedelta(minutes=1)
#: How many times a job starts its query again because its iterator was lost.
MAX_RESTARTS = 5
#: Most records a query job's result holds.
RESULT_LIMIT = 10_000
#: Filters that stand in the way of a bound of the same field.
_NAME_FILTERS = ("name_filter", "name_range_filter", "list_ids", "full_names")
_MODIFIED_FILTERS = ("modified_date_range", "txn_ids", "ref_numbers", "ref_numbers_case_sensitive")


def _record_id(record: Mapping[str, Any]) -> str | None:
    ident = record.get("ListID") or record.get("TxnID")
    return str(ident) if ident else None


class ResultSink:
    """Pages collected in the job's result: each record once, at most ``limit`` records."""

    def __init__(self, limit: int = RESULT_LIMIT) -> None:
        self.limit = limit

    def keep(self, kept: Mapping[str, Any] | None, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The records so far with this page's new ones."""
        collected = list((kept or {}).get("records", []))
        seen = {_record_id(r) for r in collected}
        for record in records:
            ident = _record_id(record)
            if ident is not None and ident in seen:
                continue
            seen.add(ident)
            collected.append(dict(record))
        if len(collected) > self.limit:
            raise SinkFull(
                f"The query returned more than {self.limit} records, more than a job's result holds: narrow it "
                "with a filter (a modified-date range, a name filter) or import the records instead."
            )
        return {"records": collected}

    def store(self, conn: Executor, job_id: int, records: Sequence[Mapping[str, Any]]) -> None:
        """Nothing to write: the records travel in the job's progress and result."""

    def result(self, kept: Mapping[str, Any] | None) -> dict[str, Any]:
        """Every record received, and how many."""
        records = list((kept or {}).get("records", []))
        return {"count": len(records), "records": records}


def applies(spec: RequestKind) -> bool:
    """Whether ``spec`` is a query that can page (it has an iterator or a MaxReturned)."""
    fields = spec.payload_model.model_fields
    return spec.name.endswith("_query") and "iterator" in fields and "max_returned" in fields


def _is_list(spec: RequestKind) -> bool:
    return issubclass(spec.payload_model, ListQuery)


def has_iterators(version: str) -> bool:
    """Whether QuickBooks speaking qbXML ``version`` has query iterators."""
    return version_tuple(version) >= ITERATORS_SINCE


def _iterates(spec: RequestKind, version: str) -> bool:
    """Whether ``spec`` pages with iterators on ``version`` (else by bound: older QuickBooks, or a
    list query without iterators such as AccountQuery)."""
    return has_iterators(version) and "iterator" in spec.payload_model.model_fields


def _page_size(state: StepState) -> int:
    return int(state.payload.get("max_returned") or state.page_size)


def _bound(spec: RequestKind, payload: Mapping[str, Any], progress: Mapping[str, Any]) -> dict[str, Any]:
    """The payload fields that resume the query after the records received so far (none: from the start)."""
    if _is_list(spec):
        last = progress.get("last_name")
        if last and progress.get("name_ordered", True) and not any(payload.get(f) for f in _NAME_FILTERS):
            return {"name_range_filter": {"from_name": last}}
        return {}
    last = progress.get("last_modified")
    if last and progress.get("modified_ordered", True) and not any(payload.get(f) for f in _MODIFIED_FILTERS):
        try:
            since = datetime.fromisoformat(str(last)) - OVERLAP
        except ValueError:
            return {}
        return {"modified_date_range": {"from_modified_date": since.isoformat()}}
    return {}


def _followed(progress: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ordering facts of the pages so far, with this page's records."""
    out = {k: progress[k] for k in ("last_name", "last_modified", "name_ordered", "modified_ordered") if k in progress}
    for record in records:
        name = record.get("FullName") or record.get("Name")
        if isinstance(name, str):
            before = out.get("last_name")
            if before is not None and name.casefold() < str(before).casefold():
                out["name_ordered"] = False
            out["last_name"] = name
        modified = record.get("TimeModified")
        if isinstance(modified, str):
            before = out.get("last_modified")
            if before is not None and modified < str(before):
                out["modified_ordered"] = False
            out["last_modified"] = modified
    return out


def query_kind(spec: RequestKind, sink: PageSink | None = None) -> JobKind:
    """The ``…_query`` job kind over ``spec``: one request, or pages with ``"iterate": true``.

    ``spec`` may be a list query without iterators (the importers page accounts and sales
    tax codes so): its pages go by name bound, MaxReturned at a time.
    """
    pages_to: PageSink = sink or ResultSink()

    def model(payload: Mapping[str, Any], **extra: Any) -> Any:
        data = {k: v for k, v in payload.items() if k != "iterate"}
        data.update(extra)
        return typed_model(spec, data)

    def validate(payload: Mapping[str, Any]) -> dict[str, Any]:
        iterate = payload.get("iterate", False)
        if not isinstance(iterate, bool):
            raise PayloadError(spec.name, ["iterate: must be true or false"])
        query = {k: v for k, v in payload.items() if k != "iterate"}
        if not iterate:
            return typed_clean(spec, query)
        for taken in ("iterator", "iterator_id"):
            if payload.get(taken) is not None:
                raise PayloadError(spec.name, [f"{taken}: the job sets it itself when it iterates"])
        # The page size goes in MaxReturned: refused where the query cannot take one.
        start = {"iterator": "Start"} if "iterator" in spec.payload_model.model_fields else {}
        typed_clean(spec, {**query, "max_returned": payload.get("max_returned") or 1, **start})
        return {"iterate": True, **typed_clean(spec, query)}

    def build(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
        return steps(StepState(payload, 0, None), version, country)

    def steps(state: StepState, version: str, country: str) -> etree._Element:
        payload = state.payload
        if not payload.get("iterate"):
            return spec.build(model(payload), version=version, country=country)
        progress = state.progress or {}
        page = {"max_returned": _page_size(state)}
        if not _iterates(spec, version):
            bound = _bound(spec, payload, progress)
            return spec.build(model(payload, **page, **bound), version=version, country=country)
        if progress.get("iterator_id") and progress.get("ticket") == state.ticket:
            extra = {**page, "iterator": "Continue", "iterator_id": progress["iterator_id"]}
            return spec.build(model(payload, **extra), version=version, country=country)
        extra = {**page, "iterator": "Start", **_bound(spec, payload, progress)}
        return spec.build(model(payload, **extra), version=version, country=country)

    def take_answer(state: StepState, response: QBResponse) -> Step:
        payload = state.payload
        if not payload.get("iterate"):
            return Done(response.ids() or None)
        progress = dict(state.progress or {})
        restarts = int(progress.get("restarts", 0))
        if response.status_code == ITERATOR_EXPIRED:
            if restarts >= MAX_RESTARTS:
                return Failed(
                    f"QuickBooks lost the query's iterator {restarts + 1} times (status {ITERATOR_EXPIRED}); "
                    "retry the job, with a smaller max_returned if QuickBooks is slow."
                )
            progress.pop("iterator_id", None)
            progress["restarts"] = restarts + 1
            return Next(progress, "QuickBooks no longer knows the query's iterator (status 3391): starting the "
                        "query again after the records already received")  # fmt: skip
        records = tuple(dict(r) for r in response.objects)
        try:
            kept = pages_to.keep(progress.get("sink"), records)
        except SinkFull as exc:
            return Failed(str(exc))
        pages = int(progress.get("pages", 0)) + 1
        size = _page_size(state)
        iterating = response.iterator_id is not None
        if iterating:
            remaining = response.iterator_remaining or 0
            more = remaining > 0
        else:
            before = len((progress.get("sink") or {}).get("records", [])) if isinstance(pages_to, ResultSink) else 0
            new = len(kept.get("records", [])) - before if isinstance(pages_to, ResultSink) else len(records)
            more = len(records) >= size and new > 0
            remaining = size if more else 0
        count = f"page {pages}: {len(records)} record{'s' if len(records) != 1 else ''}"
        if not more:
            total = pages_to.result(kept)
            return Done(total, f"{count}; the query is complete ({total.get('count', len(records))} in all)",
                        records=records)  # fmt: skip
        following = {**_followed(progress, records), "sink": kept, "pages": pages, "restarts": restarts}
        if iterating:
            following.update(ticket=state.ticket, iterator_id=response.iterator_id, remaining=remaining)
            to_come = f"{remaining} to come"
        else:
            to_come = "more to come (paged by name or modified date: this QuickBooks has no iterators)"
        pages_left = math.ceil(remaining / size) if size else 1
        return Next(following, f"{count}, {to_come}", share=pages / (pages + max(pages_left, 1)), records=records)

    def reference(payload: Mapping[str, Any]) -> str | None:
        return spec.reference(model(stand_in(payload)[0]))

    def schema() -> dict[str, Any]:
        found = spec.payload_model.model_json_schema()
        found.setdefault("properties", {})["iterate"] = {
            "type": "boolean",
            "default": False,
            "description": "Page through the answer (iterator Start/Continue); max_returned is the page size.",
        }
        return found

    return JobKind(
        spec.name,
        spec.description + " With iterate, the answer is read page by page.",
        validate,
        build,
        reference,
        steps=steps,
        take_answer=take_answer,
        reads_status=frozenset({ITERATOR_EXPIRED}),
        sink=pages_to,
        schema=schema,
    )
