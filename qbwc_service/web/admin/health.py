"""How a company connection is doing: never connected, healthy, near the list limit, late or failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, func, select

from qbwc_service.db.models import Company, Job, JobState, QbwcSession, SessionState
from qbwc_service.workflows.imports import list_sizes_of

#: A company is late when it has not polled for this many poll intervals.
LATE_FACTOR = 3


class Health(StrEnum):
    """The state shown for a company connection."""

    #: The Web Connector has never called with this connection's user name.
    NEVER = "never connected"
    #: Polling on time, and nothing failed since the last good session.
    HEALTHY = "healthy"
    #: No poll for more than three poll intervals.
    LATE = "late"
    #: The last session failed, or jobs failed after the last clean session.
    FAILING = "failing"
    #: Polling on time, but a list holds 80 % of what the QuickBooks edition allows.
    NEAR_LIMIT = "near the list limit"


@dataclass(frozen=True, slots=True)
class CompanyFacts:
    """What the health rule looks at for one company."""

    poll_minutes: int
    last_poll_at: datetime | None
    last_session_state: SessionState | None
    #: When the last clean session (closed by closeConnection, no job failed in it) ended.
    last_success_at: datetime | None
    #: When the newest failed job failed.
    last_failure_at: datetime | None
    queued: int = 0
    failed: int = 0
    #: The first list-size warning (names or items at 80 % of the edition's limit), if any.
    near_limit: str | None = None


@dataclass(frozen=True, slots=True)
class CompanyHealth:
    """A company's health with the reason shown beside it."""

    health: Health
    reason: str
    #: When the company became late (last poll + 3 intervals), for a late company.
    late_since: datetime | None = None


def assess(facts: CompanyFacts, now: datetime) -> CompanyHealth:
    """Apply the health rule: failing beats late, late beats near the list limit, which beats healthy."""
    if facts.last_poll_at is None and facts.last_session_state is None:
        return CompanyHealth(Health.NEVER, "the Web Connector has not called yet")
    if facts.last_session_state is SessionState.FAILED:
        return CompanyHealth(Health.FAILING, "the last Web Connector session failed")
    if facts.last_failure_at is not None and (
        facts.last_success_at is None or facts.last_failure_at > facts.last_success_at
    ):
        return CompanyHealth(Health.FAILING, "jobs failed after the last clean session")
    due = timedelta(minutes=facts.poll_minutes * LATE_FACTOR)
    if facts.last_poll_at is not None and now - facts.last_poll_at > due:
        return CompanyHealth(
            Health.LATE,
            f"no poll for more than {LATE_FACTOR} times {facts.poll_minutes} minutes",
            late_since=facts.last_poll_at + due,
        )
    if facts.near_limit:
        return CompanyHealth(Health.NEAR_LIMIT, facts.near_limit)
    return CompanyHealth(Health.HEALTHY, "polling on time")


def company_facts(conn: Connection, companies: list[Company]) -> dict[int, CompanyFacts]:
    """The health facts of ``companies``: seven grouped queries, whatever their number."""
    ids = [c.id for c in companies]
    if not ids:
        return {}
    counts: dict[tuple[int, str], int] = {
        (r.company_id, r.state): r.n
        for r in conn.execute(
            select(Job.company_id, Job.state, func.count().label("n"))
            .where(Job.company_id.in_(ids), Job.state.in_([JobState.QUEUED, JobState.FAILED]))
            .group_by(Job.company_id, Job.state)
        )
    }
    newest = (
        select(QbwcSession.company_id, func.max(QbwcSession.started_at).label("started_at"))
        .where(QbwcSession.company_id.in_(ids))
        .group_by(QbwcSession.company_id)
        .subquery()
    )
    last_state = {
        r.company_id: SessionState(r.state)
        for r in conn.execute(
            select(QbwcSession.company_id, QbwcSession.state).join(
                newest,
                (newest.c.company_id == QbwcSession.company_id) & (newest.c.started_at == QbwcSession.started_at),
            )
        )
    }
    last_success = {
        r.company_id: r.at
        for r in conn.execute(
            select(QbwcSession.company_id, func.max(QbwcSession.ended_at).label("at"))
            .where(
                QbwcSession.company_id.in_(ids),
                QbwcSession.state == SessionState.CLOSED,
                QbwcSession.failed == 0,
            )
            .group_by(QbwcSession.company_id)
        )
    }
    last_failure = {
        r.company_id: r.at
        for r in conn.execute(
            select(Job.company_id, func.max(Job.finished_at).label("at"))
            .where(Job.company_id.in_(ids), Job.state == JobState.FAILED)
            .group_by(Job.company_id)
        )
    }
    sizes = list_sizes_of(conn, ids)
    return {
        c.id: CompanyFacts(
            poll_minutes=c.poll_minutes,
            last_poll_at=c.last_poll_at,
            last_session_state=last_state.get(c.id),
            last_success_at=_aware(last_success.get(c.id)),
            last_failure_at=_aware(last_failure.get(c.id)),
            queued=counts.get((c.id, JobState.QUEUED.value), 0),
            failed=counts.get((c.id, JobState.FAILED.value), 0),
            near_limit=next(iter(sizes[c.id].warnings), None) if c.id in sizes else None,
        )
        for c in companies
    }


def _aware(value: datetime | None) -> datetime | None:
    """A timestamp from an aggregate as aware UTC, whatever the driver returned."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
