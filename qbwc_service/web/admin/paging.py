"""The jobs list: filtered keyset pages on ``job.id``, newest first, fast at any depth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, or_, select

from qbwc_service.db.models import Company, Job, JobState
from qbwc_service.web.admin.forms import PAGE_SIZE, JobFilters


@dataclass(frozen=True, slots=True)
class JobRow:
    """One line of the jobs list (no payload or XML is loaded)."""

    id: int
    company_id: int
    company: str
    kind: str
    reference: str | None
    state: JobState
    priority: int
    attempts: int
    status_code: int | None
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class JobPage:
    """A page of jobs with the ids to page on from."""

    rows: list[JobRow]
    #: Pass as ``before`` for the next older page; None on the last page.
    older: int | None
    #: Pass as ``after`` for the next newer page; None on the first page.
    newer: int | None


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _filtered(query: S, f: JobFilters) -> S:
    if f.company_id is not None:
        query = query.where(Job.company_id == f.company_id)
    if f.state is not None:
        query = query.where(Job.state == f.state)
    if f.kind:
        query = query.where(Job.kind == f.kind)
    if f.text:
        match = Job.reference.icontains(f.text, autoescape=True)
        query = query.where(or_(match, Job.id == int(f.text)) if f.text.isdigit() else match)
    if f.since_at is not None:
        query = query.where(Job.created_at >= f.since_at)
    if f.until_at is not None:
        query = query.where(Job.created_at < f.until_at)
    return query


def job_page(conn: Connection, f: JobFilters, size: int = PAGE_SIZE) -> JobPage:
    """One page of jobs matching ``f``, positioned by ``f.before`` or ``f.after``."""
    query = _filtered(
        select(
            Job.id, Job.company_id, Company.name.label("company"), Job.kind, Job.reference, Job.state, Job.priority,
            Job.attempts, Job.status_code, Job.error, Job.created_at, Job.updated_at,
        ).join(Company, Company.id == Job.company_id),
        f,
    )  # fmt: skip
    forward = f.after is not None and f.before is None
    if forward:
        query = query.where(Job.id > f.after).order_by(Job.id.asc())
    else:
        if f.before is not None:
            query = query.where(Job.id < f.before)
        query = query.order_by(Job.id.desc())
    found = [JobRow(**r._asdict()) for r in conn.execute(query.limit(size + 1))]
    more = len(found) > size
    found = found[:size]
    if forward:
        found.reverse()
    if not found:
        return JobPage([], None, None)
    newest, oldest = found[0].id, found[-1].id
    if forward:
        return JobPage(found, oldest if _exists(conn, f, Job.id < oldest) else None, newest if more else None)
    positioned = f.before is not None
    return JobPage(
        found, oldest if more else None, newest if positioned and _exists(conn, f, Job.id > newest) else None
    )


def _exists(conn: Connection, f: JobFilters, position: Any) -> bool:
    """Whether a job matching ``f`` lies beyond ``position`` (one indexed probe)."""
    return conn.execute(_filtered(select(Job.id), f).where(position).limit(1)).first() is not None
