"""Starting imports and following them: full or incremental, and their progress from the job rows.

An import is one job of kind ``import_<list>`` (:mod:`.kinds`). The first import of a list
is full; later ones ask for the records modified since the newest TimeModified of the last
completed import less :data:`OVERLAP`; ``full=True`` forces a full one. What an import has
done is read from its job: pages and rows from ``progress`` while it runs, the count and
newest time from ``result`` once done.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from qbwc_service.db.models import Job, JobEvent, JobState, QbRecord
from qbwc_service.queue import jobs
from qbwc_service.workflows.imports import counts
from qbwc_service.workflows.imports.lists import LISTS, ImportList, get_list

#: How far before the newest TimeModified of the last import an incremental import starts.
OVERLAP = timedelta(minutes=5)
#: Done imports looked through for the one an incremental import follows.
_LOOK_BACK = 50
_OPEN = (JobState.QUEUED, JobState.IN_FLIGHT)


@dataclass(frozen=True, slots=True)
class ImportStatus:
    """Where the latest import of one list of a company stands."""

    list: str
    job_id: int | None
    state: str | None
    full: bool
    #: The TimeModified an incremental import starts from (None: full).
    since: str | None
    pages: int
    rows: int
    #: Records QuickBooks still holds for the import's iterator (None when it cannot tell).
    remaining: int | None
    rows_per_second: float | None
    #: Estimated seconds left (None when unknown).
    eta_seconds: float | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    #: Records of the list the service holds.
    records: int

    @property
    def running(self) -> bool:
        """Whether the import is queued or in flight."""
        return self.state in (JobState.QUEUED.value, JobState.IN_FLIGHT.value)

    @property
    def share(self) -> float | None:
        """How much of the import is done, 0 to 1 (None when unknown)."""
        if self.state == JobState.DONE.value:
            return 1.0
        if self.remaining is None:
            return None
        total = self.rows + self.remaining
        return self.rows / total if total else 0.0

    def to_json(self) -> dict[str, Any]:
        """The status as the API and ``--json`` show it."""
        out = asdict(self)
        out["running"] = self.running
        out["share"] = self.share
        for key in ("started_at", "finished_at"):
            value = out[key]
            out[key] = value.isoformat() if value else None
        return out


@dataclass(frozen=True, slots=True)
class Started:
    """An import queued by :func:`start_import` (or the one already queued)."""

    job_id: int
    full: bool
    since: str | None
    #: False when an import of the list was queued or running already: that one is returned.
    created: bool


def _open_import(conn: Connection, company_id: int, entry: ImportList) -> Any:
    return conn.execute(
        select(Job.id, Job.payload)
        .where(Job.company_id == company_id, Job.kind == entry.kind, Job.state.in_(_OPEN))
        .order_by(Job.id.desc())
        .limit(1)
    ).first()


def last_completed(conn: Connection, company_id: int, entry: ImportList) -> Any:
    """The newest done import of the list that received records (id, payload, result, created_at), or None."""
    for row in conn.execute(
        select(Job.id, Job.payload, Job.result, Job.created_at)
        .where(Job.company_id == company_id, Job.kind == entry.kind, Job.state == JobState.DONE)
        .order_by(Job.id.desc())
        .limit(_LOOK_BACK)
    ):
        if (row.result or {}).get("newest"):
            return row
    return None


def last_full_at(conn: Connection, company_id: int, list_name: str) -> datetime | None:
    """When the newest done full import of the list started (records not seen since are missing from it)."""
    entry = get_list(list_name)
    for row in conn.execute(
        select(Job.payload, Job.created_at)
        .where(Job.company_id == company_id, Job.kind == entry.kind, Job.state == JobState.DONE)
        .order_by(Job.id.desc())
        .limit(_LOOK_BACK)
    ):
        if not (row.payload or {}).get("from_modified_date"):
            found: datetime = row.created_at
            return found
    return None


def since_for(newest: str) -> str:
    """Where an incremental import after ``newest`` (a TimeModified) starts: :data:`OVERLAP` before it."""
    return (datetime.fromisoformat(newest) - OVERLAP).isoformat()


def start_import(
    conn: Connection, company: str | int, list_name: str, *, full: bool = False, actor: str = "api",
    max_attempts: int = 5,
) -> Started:  # fmt: skip
    """Queue an import of ``list_name`` for ``company``: full the first time or with ``full``, else incremental.

    An import of the list already queued or running is returned instead of a second one.
    """
    entry = get_list(list_name)
    company_id = company if isinstance(company, int) else jobs.company_id_by_name(conn, company)
    running = _open_import(conn, company_id, entry)
    if running is not None:
        since = running.payload.get("from_modified_date")
        return Started(running.id, since is None, since, created=False)
    payload: dict[str, Any] = {"iterate": True, "active_status": "All"}
    since = None
    if not full:
        before = last_completed(conn, company_id, entry)
        if before is not None:
            since = since_for(before.result["newest"])
            payload["from_modified_date"] = since
    queued = jobs.enqueue(conn, company_id, entry.kind, payload, actor=actor, max_attempts=max_attempts)
    counts.refresh_if_stale(conn, company_id, actor=actor)
    return Started(queued.job_id, since is None, since, created=True)


def status(conn: Connection, company_id: int, list_name: str) -> ImportStatus:
    """The latest import of the list for the company, with its progress and an estimate of the time left."""
    entry = get_list(list_name)
    held = conn.execute(
        select(func.count()).select_from(QbRecord).where(QbRecord.company_id == company_id, QbRecord.list == entry.name)
    ).scalar_one()
    job = conn.execute(
        select(Job.id, Job.state, Job.payload, Job.progress, Job.result, Job.error, Job.updated_at, Job.finished_at)
        .where(Job.company_id == company_id, Job.kind == entry.kind)
        .order_by(Job.id.desc())
        .limit(1)
    ).first()
    if job is None:
        return ImportStatus(entry.name, None, None, False, None, 0, 0, None, None, None, None, None, None, held)
    events = conn.execute(
        select(
            func.min(JobEvent.at).filter(JobEvent.request_xml.is_not(None)),
            func.count().filter(JobEvent.response_xml.is_not(None)),
        ).where(JobEvent.job_id == job.id)
    ).one()
    started, pages = _aware(events[0]), int(events[1] or 0)
    progress = job.progress or {}
    state = JobState(job.state)
    remaining: int | None
    if state is JobState.DONE:
        rows, remaining = int((job.result or {}).get("count", 0)), 0
    else:
        rows = int((progress.get("sink") or {}).get("rows", 0))
        remaining = progress.get("remaining") if progress.get("iterator_id") else None
        pages = int(progress.get("pages", 0))
    last = job.finished_at or job.updated_at
    rate = None
    if started is not None and last is not None and rows:
        seconds = (last - started).total_seconds()
        rate = rows / seconds if seconds > 0 else None
    eta = remaining / rate if rate and remaining is not None and state is not JobState.DONE else None
    if state is JobState.DONE:
        eta = 0.0
    since = (job.payload or {}).get("from_modified_date")
    return ImportStatus(
        entry.name, job.id, state.value, since is None, since, pages, rows,
        int(remaining) if remaining is not None else None, rate, eta, started, job.finished_at, job.error, held,
    )  # fmt: skip


def statuses(conn: Connection, company_id: int) -> list[ImportStatus]:
    """The latest import of every list for the company."""
    return [status(conn, company_id, name) for name in LISTS]


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
