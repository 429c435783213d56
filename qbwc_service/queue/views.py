"""How jobs look from outside: the JSON shapes the API and the CLI print. No Flask here.

The reads go through the Core tables of :mod:`qbwc_service.db.tables`, so a short-lived
CLI process loads neither the ORM nor the models (``bench/cli_start.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from qbwc_service.db.tables import company, job, job_dependency, job_event
from qbwc_service.db.types import JobState
from qbwc_service.errors import JobNotFound

_JOB_WITH_COMPANY = job.join(company, job.c.company_id == company.c.id)


def job_json(row: Any, company_name: str, depends_on: Sequence[int] = ()) -> dict[str, Any]:
    """A job (a :class:`~qbwc_service.db.models.Job` or a row of its columns) as the API and CLI show it.

    ``depends_on``: the ids of the jobs it waits for (:func:`dependencies`).
    """
    return {
        "id": row.id,
        "company": company_name,
        "kind": row.kind,
        "state": str(row.state),
        "priority": row.priority,
        "attempts": row.attempts,
        "idempotency_key": row.idempotency_key,
        "reference": row.reference,
        "depends_on": list(depends_on),
        "status_code": row.status_code,
        "status_message": row.status_message,
        "error": row.error,
        "result": row.result,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


def load_job(conn: Connection, job_id: int) -> dict[str, Any]:
    """The job ``job_id`` as JSON, or :class:`JobNotFound`."""
    found = conn.execute(
        select(*job.c, company.c.name.label("company_name")).select_from(_JOB_WITH_COMPANY).where(job.c.id == job_id)
    ).first()
    if found is None:
        raise JobNotFound(job_id)
    return job_json(found, found.company_name, dependencies(conn, job_id))


def dependencies(conn: Connection, job_id: int) -> list[int]:
    """The ids of the jobs ``job_id`` depends on, lowest first."""
    d = job_dependency
    return list(
        conn.execute(select(d.c.depends_on_id).where(d.c.job_id == job_id).order_by(d.c.depends_on_id)).scalars()
    )


def load_job_detail(conn: Connection, job_id: int) -> dict[str, Any]:
    """The job ``job_id`` as JSON with its request, response and history (``events``, each step's XML on its events)."""
    data = load_job(conn, job_id)
    e = job_event.c
    history = conn.execute(
        select(e.at, e.from_state, e.to_state, e.actor, e.message, e.request_xml, e.response_xml)
        .where(e.job_id == job_id)
        .order_by(e.id)
    ).all()
    data["request_xml"], data["response_xml"] = last_xml(history)
    # Each step's request (on the event of the job sent) and response (on the event settling it).
    data["events"] = [
        {"at": r.at.isoformat(), "from": r.from_state, "to": r.to_state, "actor": r.actor, "message": r.message,
         "request_xml": r.request_xml, "response_xml": r.response_xml}
        for r in history
    ]  # fmt: skip
    return data


def list_jobs(
    conn: Connection, *, company_name: str | None = None, state: JobState | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Jobs newest first, as the CLI lists them: state, attempts, QuickBooks status, result."""
    query = (
        select(job.c.id, company.c.name.label("company"), job.c.kind, job.c.state, job.c.attempts,
               job.c.status_code, job.c.status_message, job.c.reference, job.c.error, job.c.result)
        .select_from(_JOB_WITH_COMPANY)
        .order_by(job.c.id.desc())
        .limit(limit)
    )  # fmt: skip
    if company_name:
        query = query.where(company.c.name == company_name)
    if state:
        query = query.where(job.c.state == state.value)
    return [row._asdict() for row in conn.execute(query)]


def last_xml(history: Iterable[Any]) -> tuple[str | None, str | None]:
    """A job's last request and last response, from its events in order (each step's are on its events)."""
    request = response = None
    for event in history:
        request = event.request_xml or request
        response = event.response_xml or response
    return request, response
