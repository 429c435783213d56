"""Reset a company's integration: start over without touching QuickBooks or losing history.

A reset cancels the company's queued jobs, forgets its resolved mapping, sets its setup
runs aside (their ListIDs no longer count), so setup is required again, and records who
did it and why. Jobs, their events and sessions stay as they were; nothing is deleted in
QuickBooks. Jobs in flight finish (QuickBooks has them already).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, insert, select, update

from qbwc_service.db.models import CompanyReset, Job, JobState, SetupRun, utcnow
from qbwc_service.errors import JobStateError, QbwcError
from qbwc_service.logs import log
from qbwc_service.queue import jobs
from qbwc_service.workflows.setup import mapping, profiles

RESET, RUN, J = (
    CompanyReset.metadata.tables["company_reset"],
    SetupRun.metadata.tables["setup_run"],
    Job.metadata.tables["job"],
)


class ResetRefused(QbwcError):
    """The reset cannot be done as asked."""


def reset(conn: Connection, company: str | int, *, actor: str, reason: str) -> dict[str, Any]:
    """Reset the company's integration (see the module); what it did."""
    reason = (reason or "").strip()
    if not reason:
        raise ResetRefused("a reset needs a reason: say why (it is kept with who did it)")
    row = profiles.company_row(conn, company)
    queued = conn.execute(
        select(J.c.id).where(J.c.company_id == row.id, J.c.state == JobState.QUEUED).order_by(J.c.id)
    ).scalars().all()  # fmt: skip
    cancelled = 0
    for job_id in queued:
        try:
            jobs.cancel(conn, job_id, actor=actor)
        except JobStateError:  # handed out meanwhile: it finishes
            continue
        cancelled += 1
    forgotten = mapping.forget(conn, row.id)
    reset_id = conn.execute(
        insert(RESET).values(company_id=row.id, actor=actor, reason=reason[:2000], at=utcnow(), cancelled=cancelled,
                             forgotten=forgotten).returning(RESET.c.id)
    ).scalar_one()  # fmt: skip
    conn.execute(update(RUN).where(RUN.c.company_id == row.id, RUN.c.reset_id.is_(None)).values(reset_id=reset_id))
    log(logging.INFO, "company_reset", company=row.name, by=actor, cancelled=cancelled, forgotten=forgotten)
    return {"company": row.name, "reset": int(reset_id), "cancelled": cancelled, "forgotten": forgotten,
            "actor": actor, "reason": reason}  # fmt: skip
