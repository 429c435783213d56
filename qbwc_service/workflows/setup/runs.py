"""A setup run: queue it (the preferences check, then one ensure job per profile entry) and show it.

The run is one unit: a ``setup_run`` row and a ``setup_step`` per job, read back together
with each job's state. Every ensure job depends on the preferences check, so with sales tax
off nothing else is sent; among themselves they wait by name (accounts before items, the
agency before the tax item; see :mod:`.plan`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from qbwc_service.db.models import CompanyReset, Job, JobState, SetupRun, SetupStep, utcnow
from qbwc_service.errors import Conflict
from qbwc_service.queue import jobs
from qbwc_service.workflows.setup import kinds, plan, profiles
from qbwc_service.workflows.setup.profile import ProfileError, refusals

RUN, STEP, J, RESET = (
    SetupRun.metadata.tables["setup_run"],
    SetupStep.metadata.tables["setup_step"],
    Job.metadata.tables["job"],
    CompanyReset.metadata.tables["company_reset"],
)

#: Setup goes before other work of the company that is queued at the same time.
PRIORITY = 100


class SetupRunning(Conflict):
    """A setup run of the company still has steps waiting."""


def start(conn: Connection, company: str | int, *, actor: str, max_attempts: int = 5) -> int:
    """Queue a setup run for the company from its profile in force; the run's id.

    Refused when the profile asks for what the company's country does not support
    (:class:`ProfileError`) or a run of the company is still waiting (:class:`SetupRunning`).
    """
    row = profiles.company_row(conn, company)
    kinds.register_kinds()
    waiting = _current_run(conn, row.id)
    if waiting is not None and _run_state(steps(conn, waiting.id)) == "waiting":
        raise SetupRunning(
            f"setup of {row.name} is already running (run {waiting.id}): wait for it to finish, or reset the company"
        )
    version, profile = profiles.current(conn, row.id)
    problems = refusals(profile, row.qbxml_country)
    if problems:
        raise ProfileError(problems)
    run_id = conn.execute(
        insert(RUN).values(company_id=row.id, profile_version=version, started_by=actor, started_at=utcnow())
        .returning(RUN.c.id)
    ).scalar_one()  # fmt: skip

    def enqueue(kind: str, payload: dict[str, Any], depends_on: int | None = None) -> int:
        return jobs.enqueue(
            conn, row.id, kind, payload, priority=PRIORITY, depends_on=depends_on, max_attempts=max_attempts,
            actor=actor,
        ).job_id  # fmt: skip

    check = enqueue(kinds.PREFERENCES, {"country": profile.country, "sales_tax": plan.needs_sales_tax(profile)})
    made = [("preferences", "Company preferences (sales tax on)", check)]
    for entry in plan.entries(profile):
        payload = {"entry": entry.key, "ensure": entry.kind, "fields": entry.fields, "create": entry.create}
        made.append((entry.key, entry.label, enqueue(kinds.ENSURE, payload, check)))
    conn.execute(
        insert(STEP),
        [{"run_id": run_id, "position": i, "entry": key, "label": label, "job_id": job_id}
         for i, (key, label, job_id) in enumerate(made)],
    )  # fmt: skip
    return int(run_id)


def _current_run(conn: Connection, company_id: int) -> Any:
    """The company's newest run that no reset set aside, or None."""
    return conn.execute(
        select(RUN).where(RUN.c.company_id == company_id, RUN.c.reset_id.is_(None)).order_by(RUN.c.id.desc()).limit(1)
    ).first()


def steps(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """Each step of a run with its state (waiting, done, already there, failed, cancelled), message and ListID."""
    rows = conn.execute(
        select(STEP.c.position, STEP.c.entry, STEP.c.label, STEP.c.job_id, J.c.state, J.c.result, J.c.error,
               J.c.payload, J.c.kind)
        .join(J, J.c.id == STEP.c.job_id)
        .where(STEP.c.run_id == run_id)
        .order_by(STEP.c.position)
    ).all()  # fmt: skip
    return [_step(r) for r in rows]


def _step(r: Any) -> dict[str, Any]:
    result = r.result or {}
    state, message = "waiting", r.error or "queued"
    if r.state == JobState.IN_FLIGHT:
        message = "sent to QuickBooks"
    elif r.state == JobState.DONE:
        if r.kind == kinds.PREFERENCES:
            state, message = "done", "sales tax is on" if result.get("sales_tax") else "preferences read"
        elif result.get("setup") == "added":
            state, message = "done", "created in QuickBooks"
        else:
            state, message = "already there", "already in QuickBooks"
        if result.get("warnings"):
            message += ", with harmless differences: " + "; ".join(result["warnings"])
    elif r.state == JobState.FAILED:
        state, message = "failed", r.error or "failed"
    elif r.state == JobState.CANCELLED:
        state, message = "cancelled", "cancelled"
    return {
        "position": r.position, "entry": r.entry, "name": r.label, "state": state, "message": message,
        "list_id": result.get("ListID"), "full_name": result.get("FullName"), "job_id": r.job_id,
    }  # fmt: skip


def _run_state(found: list[dict[str, Any]]) -> str:
    states = {s["state"] for s in found}
    if "waiting" in states:
        return "waiting"
    if states & {"failed", "cancelled"}:
        return "failed"
    return "done"


def show(conn: Connection, company: str | int) -> dict[str, Any]:
    """The company's setup as one unit: whether it is required, the current run and its steps, the last reset."""
    row = profiles.company_row(conn, company)
    run = _current_run(conn, row.id)
    found = steps(conn, run.id) if run is not None else []
    state = _run_state(found) if run is not None else None
    finished = sum(1 for s in found if s["state"] != "waiting")
    reset = conn.execute(
        select(RESET.c.actor, RESET.c.reason, RESET.c.at, RESET.c.cancelled, RESET.c.forgotten)
        .where(RESET.c.company_id == row.id).order_by(RESET.c.id.desc()).limit(1)
    ).first()  # fmt: skip
    sales_tax = (row.host_info or {}).get("sales_tax_enabled")
    return {
        "company": row.name,
        "setup_required": state != "done",
        "sales_tax_enabled": sales_tax,
        "run": None if run is None else {
            "id": run.id, "state": state, "profile_version": run.profile_version, "started_by": run.started_by,
            "started_at": run.started_at, "progress": {"finished": finished, "total": len(found)},
        },
        "steps": found,
        "last_reset": None if reset is None else dict(reset._mapping),
    }  # fmt: skip
