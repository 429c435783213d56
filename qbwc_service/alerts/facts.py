"""What the alert rules read of every company, in four grouped queries whatever the number of companies."""

from __future__ import annotations

from sqlalchemy import Connection, case, func, select

from qbwc_service.alerts.rules import AlertFacts
from qbwc_service.db.models import Company, Job, JobState, QbwcSession, SessionState

#: The ended sessions the session rule looks at; superseded ones (a lost reply) and open ones do not count.
ENDED = (SessionState.CLOSED, SessionState.FAILED, SessionState.ABANDONED)
#: Of those, the ones that count as failed: an error, or a Web Connector that went quiet mid-run.
UNSUCCESSFUL = (SessionState.FAILED, SessionState.ABANDONED)


def alert_facts(conn: Connection, recent_sessions: int) -> list[AlertFacts]:
    """Every company's facts; ``recent_sessions`` is how many of its newest ended sessions are read."""
    counts: dict[tuple[int, str], int] = {
        (r.company_id, r.state): r.n
        for r in conn.execute(
            select(Job.company_id, Job.state, func.count().label("n"))
            .where(Job.state.in_([JobState.QUEUED, JobState.FAILED]))
            .group_by(Job.company_id, Job.state)
        )
    }
    sessions: dict[int, tuple[int, int, str | None]] = {}
    if recent_sessions > 0:
        ranked = (
            select(
                QbwcSession.company_id,
                QbwcSession.state,
                QbwcSession.last_error,
                func.row_number()
                .over(partition_by=QbwcSession.company_id, order_by=QbwcSession.started_at.desc())
                .label("n"),
            )
            .where(QbwcSession.state.in_(ENDED))
            .subquery()
        )
        rows = conn.execute(
            select(
                ranked.c.company_id,
                func.count().label("seen"),
                func.sum(case((ranked.c.state.in_([s.value for s in UNSUCCESSFUL]), 1), else_=0)).label("failed"),
                func.max(case((ranked.c.n == 1, ranked.c.last_error))).label("last_error"),
            )
            .where(ranked.c.n <= recent_sessions)
            .group_by(ranked.c.company_id)
        )
        sessions = {r.company_id: (r.seen, int(r.failed or 0), r.last_error) for r in rows}
    companies = conn.execute(
        select(Company.id, Company.name, Company.enabled, Company.poll_minutes, Company.created_at,
               Company.last_poll_at).order_by(Company.id)
    )  # fmt: skip
    found = []
    for c in companies:
        seen, failed, error = sessions.get(c.id, (0, 0, None))
        found.append(
            AlertFacts(
                company_id=c.id,
                name=c.name,
                enabled=c.enabled,
                poll_minutes=c.poll_minutes,
                created_at=c.created_at,
                last_poll_at=c.last_poll_at,
                queued=counts.get((c.id, JobState.QUEUED.value), 0),
                failed_jobs=counts.get((c.id, JobState.FAILED.value), 0),
                recent_sessions=seen,
                recent_failed=failed,
                last_session_error=error,
            )
        )
    return found
