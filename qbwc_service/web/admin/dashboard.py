"""What the dashboard shows, read in a handful of grouped queries whatever the number of companies or jobs.

Counts by state per company, the oldest queued job, each company's health (the rule of
``health.py``) and jobs done and failed per hour (the chart, drawn here as SVG geometry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, SQLColumnExpression, func, select, text
from sqlalchemy.orm import Session

from qbwc_service.db.models import Company, Job, JobEvent, JobState
from qbwc_service.web.admin.health import CompanyFacts, CompanyHealth, Health, assess, company_facts

#: The chart's span, in hours (seven days).
CHART_HOURS = 7 * 24
#: Companies listed on the dashboard, those needing attention first; the companies page lists all.
SHOWN_COMPANIES = 100
#: The order of health on the dashboard: what needs a person first.
ATTENTION = {Health.FAILING: 0, Health.LATE: 1, Health.NEAR_LIMIT: 2, Health.NEVER: 3, Health.HEALTHY: 4}


@dataclass(frozen=True, slots=True)
class CompanyLine:
    """One company's line: its job counts by state, oldest queued job and health."""

    company: Company
    counts: dict[JobState, int]
    facts: CompanyFacts
    health: CompanyHealth
    oldest_queued_at: datetime | None


@dataclass(frozen=True, slots=True)
class Overview:
    """The live part of the dashboard."""

    totals: dict[JobState, int]
    lines: list[CompanyLine]
    #: Companies not listed (past ``SHOWN_COMPANIES``).
    more: int
    #: The oldest queued job of all: its id, company and when it was queued.
    oldest_queued: tuple[int, str, datetime] | None
    health_counts: dict[Health, int] = field(default_factory=dict)


def overview(db: Session, now: datetime) -> Overview:
    """Counts, oldest queued jobs and health of every company, in eight queries."""
    conn = db.connection()
    counts: dict[int, dict[JobState, int]] = {}
    for r in conn.execute(select(Job.company_id, Job.state, func.count()).group_by(Job.company_id, Job.state)):
        counts.setdefault(r[0], {})[JobState(r[1])] = r[2]
    # The oldest queued job is the lowest id among the queued (ids grow with time): an index lookup per company.
    first_ids = dict(
        conn.execute(
            select(Job.company_id, func.min(Job.id)).where(Job.state == JobState.QUEUED).group_by(Job.company_id)
        ).all()
    )
    queued_at = dict(conn.execute(select(Job.id, Job.created_at).where(Job.id.in_(first_ids.values()))).all())
    companies = list(db.execute(select(Company).order_by(Company.name)).scalars())
    facts = company_facts(conn, companies)
    lines = []
    for c in companies:
        first = first_ids.get(c.id)
        lines.append(
            CompanyLine(
                c, counts.get(c.id, {}), facts[c.id], assess(facts[c.id], now), queued_at.get(first) if first else None
            )
        )
    lines.sort(key=lambda line: (ATTENTION.get(line.health.health, len(ATTENTION)), line.company.name))
    totals = {state: sum(line.counts.get(state, 0) for line in lines) for state in JobState}
    oldest = None
    if first_ids:
        company_id, job_id = min(first_ids.items(), key=lambda item: item[1])
        name = next(line.company.name for line in lines if line.company.id == company_id)
        oldest = (job_id, name, queued_at[job_id])
    health_counts = {h: sum(1 for line in lines if line.health.health is h) for h in Health}
    return Overview(totals, lines[:SHOWN_COMPANIES], max(0, len(lines) - SHOWN_COMPANIES), oldest, health_counts)


def _hour(conn: Connection, column: SQLColumnExpression[datetime]) -> ColumnElement[str]:
    """``column``'s UTC hour as ``YYYY-MM-DD HH`` text, on SQLite and PostgreSQL alike."""
    if conn.dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


@dataclass(frozen=True, slots=True)
class Hour:
    """Jobs finished in one hour."""

    start: datetime
    done: int = 0
    failed: int = 0


def per_hour(conn: Connection, now: datetime, hours: int = CHART_HOURS) -> list[Hour]:
    """Jobs done and failed in each of the last ``hours`` hours (oldest first), counted from the job events.

    The events that finish a job carry ``to_state`` done or failed; the partial index
    ``ix_job_event_finished`` holds only those, and the literal condition lets both
    databases use it.
    """
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    bucket = _hour(conn, JobEvent.at).label("hour")
    rows = conn.execute(
        select(bucket, JobEvent.to_state, func.count())
        .where(JobEvent.at >= first, text("to_state IN ('done', 'failed')"))
        .group_by(bucket, JobEvent.to_state)
    )
    found: dict[datetime, dict[str | None, int]] = {}
    for hour, state, n in rows:
        found.setdefault(datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC), {})[state] = n
    series = []
    for i in range(hours):
        start = first + timedelta(hours=i)
        got = found.get(start, {})
        series.append(Hour(start, got.get(JobState.DONE.value, 0), got.get(JobState.FAILED.value, 0)))
    return series


@dataclass(frozen=True, slots=True)
class Bar:
    """One hour's stacked bar: done below, failed on top, in SVG units."""

    x: float
    width: float
    done_y: float
    done_height: float
    failed_y: float
    failed_height: float
    hour: Hour


@dataclass(frozen=True, slots=True)
class Chart:
    """The per-hour chart's geometry (``dashboard/_chart.html`` draws it)."""

    width: int
    height: int
    top: int
    bars: list[Bar]
    #: Gridlines: (y, label).
    ticks: list[tuple[float, str]]
    #: Day boundaries: (x, label).
    days: list[tuple[float, str]]
    total_done: int
    total_failed: int


def _nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 times a power of ten at or above ``value``."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def chart(series: list[Hour], width: int = 1000, height: int = 180) -> Chart:
    """Lay ``series`` out as stacked bars on a ``width`` x ``height`` plot with a 0-to-max scale."""
    top = _nice_max(max((h.done + h.failed for h in series), default=0) or 1)
    slot = width / max(1, len(series))
    bars = []
    for i, h in enumerate(series):
        done_h = height * h.done / top
        failed_h = height * h.failed / top
        bars.append(Bar(i * slot, max(slot - 1, 1), height - done_h, done_h, height - done_h - failed_h, failed_h, h))
    ticks = [(height - height * f, str(round(top * f))) for f in (0.5, 1.0)]
    days = [(i * slot, h.start.strftime("%a %d")) for i, h in enumerate(series) if h.start.hour == 0]
    return Chart(width, height, top, bars, ticks, days, sum(h.done for h in series), sum(h.failed for h in series))
