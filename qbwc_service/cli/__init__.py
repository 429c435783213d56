"""The ``qbwc-service`` command line: thin calls into the queue and company modules."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from qbwc_service.accounts import companies
from qbwc_service.cli.simulate import simulate
from qbwc_service.cli.state import CliState, Group, pass_state
from qbwc_service.config import ENV_HELP
from qbwc_service.db.models import Company, Job, JobState, Role
from qbwc_service.queue import jobs

EPILOG = "Environment variables:\n\n" + "\n\n".join(f"  {k}: {v}" for k, v in ENV_HELP.items())


@click.group(cls=Group, epilog=EPILOG, context_settings={"max_content_width": 100})
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout and nothing else.")
@click.pass_context
def main(ctx: click.Context, as_json: bool) -> None:
    """Keep QuickBooks Desktop in sync through the QuickBooks Web Connector."""
    ctx.obj = CliState(as_json=as_json)
    ctx.call_on_close(ctx.obj.close)


# -- database -------------------------------------------------------------------------


@main.group(cls=Group)
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: CliState) -> None:
    """Apply every migration not yet applied."""
    from qbwc_service.db import migrate

    migrate.upgrade(state.engine)
    state.emit({"upgraded": True}, "database is at the latest migration")


@db.command("check")
@pass_state
def db_check(state: CliState) -> None:
    """Fail when the models need a migration that does not exist yet."""
    from qbwc_service.db import migrate

    migrate.check(state.engine)
    state.emit({"ok": True}, "the schema matches the models")


# -- serving ----------------------------------------------------------------------------


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@pass_state
def serve(state: CliState, bind: str, workers: int) -> None:
    """Serve the SOAP endpoint (/qbwc), the JSON API and the admin pages with gunicorn."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
    if gunicorn is None:
        state.fail("gunicorn is not installed")
    args = [
        gunicorn,
        "-c",
        "python:qbwc_service.gunicorn_conf",
        "--bind",
        bind,
        "--workers",
        str(workers),
    ]
    os.execv(gunicorn, [*args, "qbwc_service:create_app()"])


# -- companies --------------------------------------------------------------------------


@main.group(cls=Group)
def company() -> None:
    """Company connections: one QuickBooks company file each."""


@company.command("create")
@click.argument("name")
@click.option("--username", required=True, help="The user name QBWC logs in with.")
@click.option("--company-file", default=None, help="Company file to open (default: the one open).")
@click.option("--poll-minutes", default=None, type=click.IntRange(1, 1440), help="QBWC run interval.")
@click.option("--read-only", is_flag=True, help="Mark the connection read-only in the .qwc file.")
@pass_state
def company_create(
    state: CliState,
    name: str,
    username: str,
    company_file: str | None,
    poll_minutes: int | None,
    read_only: bool,
) -> None:
    """Create a connection and print its token, once."""
    with state.engine.begin() as conn:
        new = companies.create_company(
            conn, name, username, company_file=company_file, read_only=read_only,
            poll_minutes=poll_minutes or state.settings.default_poll_minutes,
        )  # fmt: skip
    data = {"id": new.id, "name": new.name, "username": new.username, "token": new.token,
            "owner_id": new.owner_id, "file_id": new.file_id}  # fmt: skip
    state.emit(
        data,
        f"created company {new.name} (QBWC user {new.username})\n"
        f"token (shown once; type it into the Web Connector as the password):\n{new.token}",
    )


@company.command("token")
@click.argument("name")
@pass_state
def company_token(state: CliState, name: str) -> None:
    """Rotate the token of a connection: the old one stops working at once."""
    with state.engine.begin() as conn:
        token = companies.rotate_token(conn, name)
    state.emit({"name": name, "token": token}, f"new token for {name} (shown once):\n{token}")


@company.command("qwc")
@click.argument("name")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to a file.")
@pass_state
def company_qwc(state: CliState, name: str, output: str | None) -> None:
    """Print the .qwc file to open in the Web Connector."""
    from qbwc_service.qbwc.qwc import public_url_warning, qwc_filename, render_qwc

    with state.engine.connect() as conn:
        found = companies.get_company(conn, name)
    xml = render_qwc(found, state.settings)
    warning = public_url_warning(state.settings)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(xml)
    if state.as_json:
        state.emit({"name": name, "filename": qwc_filename(found), "qwc": xml}, "")
    elif not output:
        click.echo(xml, nl=False)


@company.command("list")
@pass_state
def company_list(state: CliState) -> None:
    """List company connections."""
    with Session(state.engine) as db:
        rows = db.execute(select(Company).order_by(Company.name)).scalars().all()
    data = [
        {"id": c.id, "name": c.name, "username": c.username, "enabled": c.enabled,
         "qbxml_version": c.qbxml_version, "last_poll_at": c.last_poll_at}
        for c in rows
    ]  # fmt: skip
    lines = [
        f"{c.name}\t{c.username}\t{'enabled' if c.enabled else 'disabled'}\t{c.last_poll_at or 'never'}" for c in rows
    ]
    state.emit(data, "\n".join(lines) or "no companies")


@company.command("disable")
@click.argument("name")
@pass_state
def company_disable(state: CliState, name: str) -> None:
    """Disable a connection: QBWC's logins are refused (nvu)."""
    with state.engine.begin() as conn:
        companies.set_enabled(conn, name, False)
    state.emit({"name": name, "enabled": False}, f"{name} disabled")


@company.command("enable")
@click.argument("name")
@pass_state
def company_enable(state: CliState, name: str) -> None:
    """Enable a disabled connection."""
    with state.engine.begin() as conn:
        companies.set_enabled(conn, name, True)
    state.emit({"name": name, "enabled": True}, f"{name} enabled")


# -- API keys ---------------------------------------------------------------------------


@main.group(cls=Group)
def apikey() -> None:
    """Keys for the JSON API."""


@apikey.command("create")
@click.argument("name")
@pass_state
def apikey_create(state: CliState, name: str) -> None:
    """Create an API key and print it, once."""
    from qbwc_service.accounts.api_keys import create_api_key

    with state.engine.begin() as conn:
        key = create_api_key(conn, name).key
    state.emit({"name": name, "key": key}, f"API key {name} (shown once):\n{key}")


# -- staff users ------------------------------------------------------------------------


@main.group(cls=Group)
def user() -> None:
    """Staff users of the admin and support pages."""


@user.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="admin: everything; "
              "support: read the queue, retry and cancel jobs.")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_state
def user_create(state: CliState, email: str, role: str, password_stdin: bool) -> None:
    """Create a staff user; the password is prompted for twice unless --password-stdin."""
    from qbwc_service.accounts.staff import create_user

    password = _read_password(password_stdin)
    with state.engine.begin() as conn:
        new = create_user(conn, email, password, role)
    state.emit({"id": new.id, "email": new.email, "role": str(new.role)}, f"created {new.role} user {new.email}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


@user.command("list")
@pass_state
def user_list(state: CliState) -> None:
    """Every staff user: e-mail, role, active or disabled, last login."""
    from qbwc_service.accounts.staff import list_users

    with state.engine.connect() as conn:
        users = list_users(conn)
    lines = [
        f"{u['email']:<40} {u['role']:<8} {'active' if u['active'] else 'disabled':<9} "
        f"last login {u['last_login_at'] or 'never'}"
        for u in users
    ]
    state.emit(users, "\n".join(lines) or "no staff users yet")


@user.command("disable")
@click.argument("email")
@pass_state
def user_disable(state: CliState, email: str) -> None:
    """Lock a user out; pages they have open log out on their next request."""
    _set_active(state, email, False)


@user.command("enable")
@click.argument("email")
@pass_state
def user_enable(state: CliState, email: str) -> None:
    """Let a disabled user log in again."""
    _set_active(state, email, True)


def _set_active(state: CliState, email: str, active: bool) -> None:
    from qbwc_service.accounts.staff import set_active

    with state.engine.begin() as conn:
        set_active(conn, email, active)
    state.emit({"email": email.strip().lower(), "active": active}, f"{'enabled' if active else 'disabled'} {email}")


@user.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_state
def user_password(state: CliState, email: str, password_stdin: bool) -> None:
    """Set a new password for a user (prompted for twice unless --password-stdin)."""
    from qbwc_service.accounts.staff import set_password

    password = _read_password(password_stdin)
    with state.engine.begin() as conn:
        set_password(conn, email, password)
    state.emit({"email": email.strip().lower()}, f"new password set for {email}")


# -- jobs -------------------------------------------------------------------------------


def _read_payload(source: str) -> dict[str, Any]:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from None
    if not isinstance(data, dict):
        raise click.BadParameter("the payload must be a JSON object", param_hint="--payload")
    return data


@main.command()
@click.argument("company_name", metavar="COMPANY")
@click.argument("kind")
@click.option("--payload", "source", required=True, help="JSON file with the payload, or - for stdin.")
@click.option("--idempotency-key", default=None, help="Queue nothing if this key was used before.")
@click.option("--priority", default=0, show_default=True, type=int)
@click.option("--depends-on", default=None, type=int, help="Job id that must be done first.")
@pass_state
def enqueue(
    state: CliState, company_name: str, kind: str, source: str, idempotency_key: str | None,
    priority: int, depends_on: int | None,
) -> None:  # fmt: skip
    """Queue a job of KIND for COMPANY."""
    payload = _read_payload(source)
    from qbwc_service.errors import PayloadError

    try:
        with state.engine.begin() as conn:
            result = jobs.enqueue(
                conn, company_name, kind, payload, idempotency_key=idempotency_key,
                priority=priority, depends_on=depends_on, max_attempts=state.settings.max_attempts, actor="cli",
            )  # fmt: skip
    except PayloadError as exc:
        state.fail_fields(str(exc), exc.errors)
    data = {"id": result.job_id, "state": str(result.state), "created": result.created}
    note = "queued" if result.created else "already queued before with that idempotency key"
    state.emit(data, f"job {result.job_id}: {note} ({result.state})")


@main.command("jobs")
@click.option("--company", "company_name", default=None, help="Only this company's jobs.")
@click.option("--state", "job_state", type=click.Choice([s.value for s in JobState]), default=None)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
@pass_state
def list_jobs(state: CliState, company_name: str | None, job_state: str | None, limit: int) -> None:
    """List jobs, newest first."""
    query = select(Job, Company.name).join(Company).order_by(Job.id.desc()).limit(limit)
    if company_name:
        query = query.where(Company.name == company_name)
    if job_state:
        query = query.where(Job.state == JobState(job_state))
    with Session(state.engine) as db:
        rows = db.execute(query).all()
    data = [
        {"id": j.id, "company": name, "kind": j.kind, "state": str(j.state), "attempts": j.attempts,
         "status_code": j.status_code, "status_message": j.status_message, "reference": j.reference,
         "error": j.error, "result": j.result}
        for j, name in rows
    ]  # fmt: skip
    lines = [
        f"{d['id']}\t{d['company']}\t{d['kind']}\t{d['state']}\t{d['attempts']}\t{d['status_code'] or ''}\t"
        f"{d['error'] or d['status_message'] or ''}"
        for d in data
    ]
    state.emit(data, "\n".join(lines) or "no jobs")


@main.command("requeue-stalled")
@pass_state
def requeue_stalled(state: CliState) -> None:
    """Abandon Web Connector sessions silent for QBWC_SESSION_TIMEOUT and requeue their jobs."""
    from datetime import timedelta

    from qbwc_service.qbwc import sessions

    with state.engine.begin() as conn:
        count = sessions.requeue_stalled(conn, timeout=timedelta(seconds=state.settings.session_timeout))
    state.emit({"requeued": count}, f"{count} job(s) back in the queue")


@main.group(cls=Group)
def job() -> None:
    """Act on one job."""


@job.command("show")
@click.argument("job_id", type=int)
@pass_state
def job_show(state: CliState, job_id: int) -> None:
    """Show a job with its request, response and history (each step with its request and response)."""
    from qbwc_service.db.models import JobEvent
    from qbwc_service.web.api import load_job

    with state.engine.connect() as conn:
        data = load_job(conn, job_id)
        row = conn.execute(select(Job.request_xml, Job.response_xml).where(Job.id == job_id)).one()
        history = (
            Session(bind=conn)
            .execute(select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id))
            .scalars()
        )
        data["request_xml"], data["response_xml"] = row.request_xml, row.response_xml
        data["events"] = [
            {
                "at": e.at.isoformat(),
                "from": e.from_state,
                "to": e.to_state,
                "actor": e.actor,
                "message": e.message,
                "request_xml": e.request_xml,
                "response_xml": e.response_xml,
            }
            for e in history
        ]
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
    with state.engine.begin() as conn:
        jobs.retry(conn, job_id, actor="cli")
    state.emit({"id": job_id, "state": "queued"}, f"job {job_id} queued again")


@job.command("cancel")
@click.argument("job_id", type=int)
@pass_state
def job_cancel(state: CliState, job_id: int) -> None:
    """Cancel a queued job."""
    with state.engine.begin() as conn:
        jobs.cancel(conn, job_id, actor="cli")
    state.emit({"id": job_id, "state": "cancelled"}, f"job {job_id} cancelled")


# -- qbXML preview ----------------------------------------------------------------------


@main.group(cls=Group)
def qbxml() -> None:
    """Preview the qbXML the service sends and read QuickBooks' answers."""


@qbxml.command("kinds")
@pass_state
def qbxml_kinds(state: CliState) -> None:
    """List the job kinds the queue accepts (with --json: each kind's payload JSON Schema).

    Every typed request of the builders, the multi-step kinds (``…_ensure``; a ``…_mod``
    without EditSequence; a ``…_query`` with ``iterate``) and ``qbxml``.
    """
    from qbwc_service.queue.kinds import registry

    found = sorted(registry().items())
    lines = [f"{name:<28} {kind.description}" for name, kind in found]
    schemas = {name: kind.schema() if kind.schema else {"type": "object"} for name, kind in found}
    state.emit(schemas, "\n".join(lines))


@qbxml.command("build")
@click.argument("kind")
@click.option("--payload", "source", required=True, help="JSON file with the payload, or - for stdin.")
@click.option("--version", default="13.0", show_default=True, help="qbXML version to build for.")
@click.option("--country", type=click.Choice(["US", "CA", "UK"]), default="US", show_default=True)
@pass_state
def qbxml_build(state: CliState, kind: str, source: str, version: str, country: str) -> None:
    """Print the complete qbXML document a job of KIND would send."""
    from qbxml_builders import BuilderError, PayloadValidationError, preview

    payload = _read_payload(source)
    try:
        document = preview(kind, payload, version=version, country=country).decode("utf-8")
    except PayloadValidationError as exc:
        state.fail_fields(str(exc), exc.errors)
    except BuilderError as exc:
        state.fail(str(exc))
    state.emit({"kind": kind, "version": version, "country": country, "qbxml": document}, document)


@qbxml.command("parse")
@click.argument("source", metavar="FILE|-")
@pass_state
def qbxml_parse(state: CliState, source: str) -> None:
    """Print a qbXML response as JSON: per request its status, classification and objects."""
    from qbxml_builders import BuilderError, parse_response, response_to_json

    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    try:
        parsed = response_to_json(parse_response(data))
    except BuilderError as exc:
        state.fail(str(exc))
    click.echo(json.dumps(parsed, indent=None if state.as_json else 2, default=str, ensure_ascii=False))


# -- simulator ----------------------------------------------------------------------------

main.add_command(simulate)
