"""List sizes against the edition's limits: ``metaData="MetaDataOnly"`` counts, refreshed at most daily.

QuickBooks Desktop Pro and Premier hold at most :data:`NAME_LIMIT` names (customers,
vendors, employees and other names together; each of those lists at most
:data:`LIST_LIMIT`) and, separately, :data:`ITEM_LIMIT` items. Enterprise holds far more.
The ``list_counts`` job asks each list for its count (``retCount``, inactive entries
included: they count against the limit). The newest done one is what the company page,
the health rule and the API show; :func:`refresh_if_stale` queues a new one when it is a
day old.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy import Connection, func, select

from qbwc_service.db.models import Company, Job, JobState, utcnow
from qbwc_service.errors import PayloadError
from qbwc_service.queue import jobs
from qbwc_service.queue.steps import Done, Failed, JobKind, Next, Step, StepState
from qbxml_builders import QBResponse
from qbxml_builders.versions import version_tuple

KIND = "list_counts"
#: Names Pro and Premier hold, all name lists together.
NAME_LIMIT = 14_500
#: Entries one name list (customers, vendors, ...) of Pro and Premier holds.
LIST_LIMIT = 10_500
#: Items Pro and Premier hold.
ITEM_LIMIT = 14_500
#: The share of a limit at which the service warns.
WARN_AT = 0.8
#: How old the newest counts may be before an import queues new ones.
MAX_AGE = timedelta(days=1)
#: The first qbXML version with ``metaData``.
METADATA_SINCE = (4, 0)
#: What is counted, in order: our name and the query's element.
COUNTED: tuple[tuple[str, str], ...] = (
    ("customers", "CustomerQueryRq"),
    ("vendors", "VendorQueryRq"),
    ("employees", "EmployeeQueryRq"),
    ("other_names", "OtherNameQueryRq"),
    ("items", "ItemQueryRq"),
)
NAME_LISTS = ("customers", "vendors", "employees", "other_names")


def count_request(tag: str) -> etree._Element:
    """A query for the count alone of a whole list, inactive entries included."""
    request = etree.Element(tag, metaData="MetaDataOnly")
    etree.SubElement(request, "ActiveStatus").text = "All"
    return request


def _validate(payload: Mapping[str, Any]) -> dict[str, Any]:
    if payload:
        raise PayloadError(KIND, [f"{name}: not a field of this kind" for name in sorted(payload)])
    return {}


def _steps(state: StepState, version: str, country: str) -> etree._Element:
    if version_tuple(version) < METADATA_SINCE:
        raise PayloadError(KIND, [f"counting a list needs qbXML 4.0 or later; this QuickBooks speaks {version}"])
    index = int((state.progress or {}).get("index", 0))
    return count_request(COUNTED[index][1])


def _take_answer(state: StepState, response: QBResponse) -> Step:
    progress = dict(state.progress or {})
    index = int(progress.get("index", 0))
    name = COUNTED[index][0]
    text = state.answer.get("retCount") if state.answer is not None else None
    if text is None and response.status_code != 1:
        return Failed(f"QuickBooks answered the count of {name} without a retCount; it cannot count its lists.")
    counted = dict(progress.get("counts", {}))
    counted[name] = int(text) if text and text.isdigit() else 0
    if index + 1 >= len(COUNTED):
        return Done({"counts": counted}, f"{name}: {counted[name]}; every list counted")
    following = {"index": index + 1, "counts": counted}
    return Next(following, f"{name}: {counted[name]}", share=(index + 1) / len(COUNTED))


LIST_COUNTS = JobKind(
    KIND,
    "Count the names and items of the company file (metaData=MetaDataOnly), for the edition's list limits.",
    _validate,
    lambda payload, version, country: _steps(StepState(payload, 0, None), version, country),
    lambda payload: "list sizes",
    steps=_steps,
    take_answer=_take_answer,
    schema=lambda: {"type": "object", "properties": {}, "additionalProperties": False},
)


@dataclass(frozen=True, slots=True)
class Usage:
    """One count against its limit."""

    what: str
    count: int
    #: None: no practical limit (Enterprise).
    limit: int | None

    @property
    def share(self) -> float | None:
        """The count as a share of the limit."""
        return self.count / self.limit if self.limit else None

    @property
    def near(self) -> bool:
        """Whether the count has reached :data:`WARN_AT` of its limit."""
        share = self.share
        return share is not None and share >= WARN_AT


@dataclass(frozen=True, slots=True)
class ListSizes:
    """A company's list sizes against its edition's limits, with the warnings they call for."""

    edition: str | None
    counts: dict[str, int]
    counted_at: datetime | None
    usage: tuple[Usage, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def limited(self) -> bool:
        """Whether the edition has the 14,500 limits (Pro, Premier; an unknown edition is taken as one)."""
        return (self.edition or "").lower() != "enterprise"

    def to_json(self) -> dict[str, Any]:
        """The sizes as the API shows them."""
        return {
            "edition": self.edition,
            "limited": self.limited,
            "counts": self.counts,
            "counted_at": self.counted_at.isoformat() if self.counted_at else None,
            "usage": [
                {"what": u.what, "count": u.count, "limit": u.limit, "share": u.share, "near": u.near}
                for u in self.usage
            ],
            "warnings": list(self.warnings),
        }


def assess(edition: str | None, counts: Mapping[str, int], counted_at: datetime | None = None) -> ListSizes:
    """Names and items against the edition's limits, and a warning for each at 80 % or more (pure)."""
    limited = (edition or "").lower() != "enterprise"
    names = sum(int(counts.get(n, 0)) for n in NAME_LISTS)
    usage = [
        Usage("names", names, NAME_LIMIT if limited else None),
        Usage("items", int(counts.get("items", 0)), ITEM_LIMIT if limited else None),
        *(Usage(n, int(counts.get(n, 0)), LIST_LIMIT if limited else None) for n in NAME_LISTS),
    ]
    product = f"QuickBooks {edition}" if edition else "This QuickBooks edition"
    warnings = tuple(
        f"{u.what.replace('_', ' ')}: {u.count:,} of {u.limit:,} ({u.share:.0%}). {product} refuses new "
        f"{'items' if u.what == 'items' else 'names'} past {u.limit:,}, inactive ones included: merge or delete "
        "unused entries, or move to QuickBooks Enterprise."
        for u in usage
        if u.near and u.limit is not None and u.share is not None
    )
    return ListSizes(edition, dict(counts), counted_at, tuple(usage), warnings)


def list_sizes(conn: Connection, company_id: int) -> ListSizes | None:
    """The company's list sizes against its edition (from the first exchange); None before the first count.

    Other workflows read this (business documents choose summary or detailed entries by it).
    """
    return list_sizes_of(conn, [company_id]).get(company_id)


def list_sizes_of(conn: Connection, company_ids: Sequence[int]) -> dict[int, ListSizes]:
    """:func:`list_sizes` of many companies in two statements (pages that show every company); counted ones only."""
    if not company_ids:
        return {}
    newest = (
        select(func.max(Job.id))
        .where(Job.company_id.in_(company_ids), Job.kind == KIND, Job.state == JobState.DONE)
        .group_by(Job.company_id)
    )
    rows = conn.execute(select(Job.company_id, Job.result, Job.finished_at).where(Job.id.in_(newest))).all()
    if not rows:
        return {}
    infos: dict[int, Any] = dict(
        conn.execute(select(Company.id, Company.host_info).where(Company.id.in_([r.company_id for r in rows]))).all()
    )
    return {
        r.company_id: assess(
            (infos.get(r.company_id) or {}).get("edition"),
            {str(k): int(v) for k, v in ((r.result or {}).get("counts") or {}).items()},
            r.finished_at,
        )
        for r in rows
    }


def refresh_if_stale(conn: Connection, company_id: int, *, actor: str = "system", now: datetime | None = None) -> bool:
    """Queue a ``list_counts`` job unless one is queued or running, or the newest is less than a day old."""
    moment = now or utcnow()
    newest = conn.execute(
        select(Job.state, Job.finished_at)
        .where(Job.company_id == company_id, Job.kind == KIND, Job.state != JobState.CANCELLED)
        .order_by(Job.id.desc())
        .limit(1)
    ).first()
    if newest is not None:
        state = JobState(newest.state)
        if state in (JobState.QUEUED, JobState.IN_FLIGHT):
            return False
        if state is JobState.DONE and newest.finished_at and moment - newest.finished_at < MAX_AGE:
            return False
    jobs.enqueue(conn, company_id, KIND, {}, actor=actor)
    return True
