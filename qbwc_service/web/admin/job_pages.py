"""The job-queue console: a filtered list, a job's whole story, and retry, cancel, move up."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from qbwc_service.db.models import Company, Job, JobEvent, JobState
from qbwc_service.errors import Conflict, NotFound
from qbwc_service.queue import jobs, views
from qbwc_service.queue.kinds import registry
from qbwc_service.redaction import Redactor
from qbwc_service.web.admin.auth import actor, require_user
from qbwc_service.web.admin.forms import read_job_filters, read_priority
from qbwc_service.web.admin.paging import job_page
from qbwc_service.web.context import get_db, services
from qbxml_builders.responses import classify

bp = Blueprint("job_pages", __name__, url_prefix="/jobs")
bp.before_request(require_user)


@bp.get("")
def index() -> Any:
    """Jobs newest first, filtered by company, state, kind, text and dates, fifty a page."""
    filters = read_job_filters(request.args)
    db = get_db()
    page = job_page(db.connection(), filters)
    company_names = db.execute(select(Company.id, Company.name).order_by(Company.name)).all()
    kinds = sorted(set(registry()) | ({filters.kind} if filters.kind else set()))
    return render_template(
        "jobs/list.html", page=page, filters=filters, companies=company_names, kinds=kinds, states=list(JobState)
    )


def _job_or_404(job_id: int) -> tuple[Job, str]:
    row = get_db().execute(select(Job, Company.name).join(Company).where(Job.id == job_id)).first()
    if row is None:
        abort(404, f"There is no job number {job_id}.")
    return row[0], row[1]


@bp.get("/<int:job_id>")
def detail(job_id: int) -> Any:
    """Everything about one job, redacted: payload, request, response, status, history, result."""
    job, company_name = _job_or_404(job_id)
    db = get_db()
    history = db.execute(select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)).scalars().all()
    redactor = Redactor(services().settings.redact_fields)
    payload_json, payload_xml = redactor.payload(job.payload)
    status = classify(job.status_code, job.status_severity or "Info") if job.status_code is not None else None
    top_priority = None
    if job.state is JobState.QUEUED:
        top_priority = db.execute(
            select(func.max(Job.priority)).where(Job.company_id == job.company_id, Job.state == JobState.QUEUED)
        ).scalar_one()
    waits_for = jobs.dependencies_of(db.connection(), [job_id])[job_id]
    dependencies = db.execute(select(Job.id, Job.state).where(Job.id.in_(waits_for)).order_by(Job.id)).all()
    # Each step's request (on the event of the job sent) and response (on the event settling it).
    step_xml = {
        e.id: (redactor.xml(e.request_xml) if e.request_xml else None,
               redactor.xml(e.response_xml) if e.response_xml else None)
        for e in history
        if e.request_xml or e.response_xml
    }  # fmt: skip
    request_xml, response_xml = views.last_xml(history)
    return render_template(
        "jobs/detail.html",
        job=job,
        dependencies=dependencies,
        company_name=company_name,
        history=history,
        step_xml=step_xml,
        payload_json=payload_json,
        payload_xml=payload_xml,
        request_xml=redactor.xml(request_xml),
        response_xml=redactor.xml(response_xml),
        result=redactor.json(job.result),
        error=redactor.text(job.error) if job.error else None,
        status_message=redactor.text(job.status_message) if job.status_message else None,
        status=status,
        suggested_priority=(job.priority if top_priority is None else top_priority) + 1,
    )


def _act(job_id: int, done: str, action: Any) -> Any:
    """Run one guarded transition for the signed-in user and report the outcome."""
    db = get_db()
    try:
        action(db.connection())
    except NotFound:
        db.rollback()
        abort(404, f"There is no job number {job_id}.")
    except Conflict as exc:
        db.rollback()
        flash(f"Nothing changed: {exc}.", "error")
    else:
        db.commit()
        flash(done, "ok")
    return redirect(url_for(".detail", job_id=job_id))


@bp.post("/<int:job_id>/retry")
def retry(job_id: int) -> Any:
    """Queue a failed or cancelled job again with fresh attempts."""
    return _act(
        job_id,
        f"Job {job_id} is queued again; it goes to QuickBooks on the next Web Connector run.",
        lambda conn: jobs.retry(conn, job_id, actor=actor()),
    )


@bp.post("/<int:job_id>/cancel")
def cancel(job_id: int) -> Any:
    """Withdraw a queued job."""
    return _act(job_id, f"Job {job_id} is cancelled.", lambda conn: jobs.cancel(conn, job_id, actor=actor()))


@bp.post("/<int:job_id>/priority")
def priority(job_id: int) -> Any:
    """Give a queued job a higher priority so it is sent before the others."""
    value = read_priority(request.form)
    if value is None:
        flash("The priority must be a whole number.", "error")
        return redirect(url_for(".detail", job_id=job_id))
    return _act(
        job_id,
        f"Job {job_id} now has priority {value}; higher numbers are sent first.",
        lambda conn: jobs.reprioritize(conn, job_id, value, actor=actor()),
    )
