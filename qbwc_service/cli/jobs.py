"""``qbwc-service enqueue``, ``jobs``, ``requeue-stalled`` and ``job``: the queue from the shell.

Listing and showing jobs (:mod:`qbwc_service.queue.views`) load neither the ORM nor the job
kinds (the qbXML builders); the queue's verbs are imported by the commands that use them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from qbwc_service.cli.payload import read_payload, read_text, xml_payload
from qbwc_service.cli.state import CliState, Group, pass_state
from qbwc_service.db.types import JobState
from qbwc_service.errors import PayloadError
from qbwc_service.queue import views


@click.command()
@click.argument("company_name", metavar="COMPANY")
@click.argument("kind")
@click.option(
    "--payload", "source", metavar="FILE|-", default=None,
    help="The payload: a JSON file, or - for stdin. For a qbxml job also the request element itself (…Rq).",
)  # fmt: skip
@click.option("--xml", "xml_source", metavar="FILE|-", default=None,
              help="For a qbxml job: a file (or - for stdin) holding the request element (…Rq).")  # fmt: skip
@click.option("--idempotency-key", default=None, help="Queue nothing if this key was used before.")
@click.option("--priority", default=0, show_default=True, type=int)
@click.option("--depends-on", "depends_on", multiple=True, type=int,
              help="Job id that must be done first (repeat for several).")  # fmt: skip
@pass_state
def enqueue(
    state: CliState, company_name: str, kind: str, source: str | None, xml_source: str | None,
    idempotency_key: str | None, priority: int, depends_on: tuple[int, ...],
) -> None:  # fmt: skip
    """Queue a job of KIND for COMPANY.

    The payload is a JSON object (each kind's fields: `qbwc-service qbxml kinds`). A qbxml
    job takes the request element itself: a file whose text starts with < given to
    --payload, or any file given to --xml.
    """
    from qbwc_service import workflows
    from qbwc_service.queue import jobs
    from qbwc_service.queue.kinds import has_kind

    if not has_kind(kind):  # a workflow's kind (imports, list counts): register them
        workflows.install()
    if source is not None and xml_source is None:
        payload = read_payload(source, kind)
    elif xml_source is not None and source is None:
        payload = xml_payload(read_text(xml_source), kind, xml_source, "--xml")
    else:
        raise click.UsageError("give the payload with --payload FILE|-, or a qbxml job's request with --xml FILE|-")
    try:
        with state.engine.begin() as conn:
            result = jobs.enqueue(
                conn, company_name, kind, payload, idempotency_key=idempotency_key,
                priority=priority, depends_on=list(depends_on), max_attempts=state.settings.max_attempts, actor="cli",
            )  # fmt: skip
    except PayloadError as exc:
        state.fail_fields(str(exc), exc.errors)
    data: dict[str, Any] = {"id": result.job_id, "state": str(result.state), "created": result.created}
    note = "queued" if result.created else "already queued before with that idempotency key"
    if result.document_id is not None:
        data["document"] = {"id": result.document_id, "jobs": list(result.jobs), "warnings": list(result.warnings)}
        ids = ", ".join(map(str, result.jobs))
        note = (f"document {result.document_id} queued as {len(result.jobs)} jobs ({ids})" if result.created
                else f"document {result.document_id} was posted before: nothing new queued")  # fmt: skip
        note = "\n".join([note, *(f"warning: {w}" for w in result.warnings)])
    state.emit(data, f"job {result.job_id}: {note} ({result.state})")


@click.command("jobs")
@click.option("--company", "company_name", default=None, help="Only this company's jobs.")
@click.option("--state", "job_state", type=click.Choice([s.value for s in JobState]), default=None)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
@pass_state
def list_jobs(state: CliState, company_name: str | None, job_state: str | None, limit: int) -> None:
    """List jobs, newest first."""
    wanted = JobState(job_state) if job_state else None
    with state.engine.connect() as conn:
        data = views.list_jobs(conn, company_name=company_name, state=wanted, limit=limit)
    lines = [
        f"{d['id']}\t{d['company']}\t{d['kind']}\t{d['state']}\t{d['attempts']}\t{d['status_code'] or ''}\t"
        f"{d['error'] or d['status_message'] or ''}"
        for d in data
    ]
    state.emit(data, "\n".join(lines) or "no jobs")


@click.command("requeue-stalled")
@pass_state
def requeue_stalled(state: CliState) -> None:
    """Abandon Web Connector sessions silent for QBWC_SESSION_TIMEOUT and requeue their jobs."""
    from qbwc_service.qbwc import sessions

    with state.engine.begin() as conn:
        count = sessions.requeue_stalled(conn, timeout=timedelta(seconds=state.settings.session_timeout))
    state.emit({"requeued": count}, f"{count} job(s) back in the queue")


@click.group(cls=Group)
def job() -> None:
    """Act on one job."""


@job.command("show")
@click.argument("job_id", type=int)
@pass_state
def job_show(state: CliState, job_id: int) -> None:
    """Show a job with its request, response and history (each step with its request and response)."""
    with state.engine.connect() as conn:
        data = views.load_job_detail(conn, job_id)
    text = "\n".join(f"{k}: {v}" for k, v in data.items() if k != "events")
    lines = []
    for e in data["events"]:
        lines.append(f"  {e['at']} {e['from'] or '-'} -> {e['to'] or '-'} {e['actor']}: {e['message'] or ''}")
        lines.extend(f"      {label}: {e[key]}" for key, label in (("request_xml", "sent"), ("response_xml", "answer"))
                     if e[key])  # fmt: skip
    text += "\n" + "\n".join(lines)
    state.emit(data, text)


@job.command("retry")
@click.argument("job_id", type=int)
@pass_state
def job_retry(state: CliState, job_id: int) -> None:
    """Queue a failed or cancelled job again."""
    from qbwc_service.queue import jobs

    with state.engine.begin() as conn:
        jobs.retry(conn, job_id, actor="cli")
    state.emit({"id": job_id, "state": "queued"}, f"job {job_id} queued again")


@job.command("cancel")
@click.argument("job_id", type=int)
@pass_state
def job_cancel(state: CliState, job_id: int) -> None:
    """Cancel a queued job."""
    from qbwc_service.queue import jobs

    with state.engine.begin() as conn:
        jobs.cancel(conn, job_id, actor="cli")
    state.emit({"id": job_id, "state": "cancelled"}, f"job {job_id} cancelled")
