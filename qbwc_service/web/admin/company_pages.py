"""Company connections: the list with health, creating one, its .qwc file, token and switches."""

from __future__ import annotations

import functools
import logging
import zoneinfo
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from qbwc_service.accounts import companies, schedule
from qbwc_service.config import MAX_POLL_MINUTES
from qbwc_service.db.models import Company, Job, QbwcSession, utcnow
from qbwc_service.errors import Conflict
from qbwc_service.logs import log
from qbwc_service.qbwc.qwc import CONTENT_TYPE, public_url_warning, qwc_filename, render_qwc
from qbwc_service.queue import jobs
from qbwc_service.web.admin.auth import actor, admin_only, require_user
from qbwc_service.web.admin.forms import CompanyInput, read_company
from qbwc_service.web.admin.health import assess, company_facts
from qbwc_service.web.admin.import_pages import panel
from qbwc_service.web.context import get_db, services
from qbwc_service.workflows.documents.post import documents as posted_documents

bp = Blueprint("company_pages", __name__, url_prefix="/companies")
bp.before_request(require_user)

#: Sessions and jobs shown on a company's page.
RECENT = 20


def company_or_404(company_id: int) -> Company:
    """The company connection of that number, or a 404 page."""
    found = get_db().get(Company, company_id)
    if found is None:
        abort(404, f"There is no company connection number {company_id}.")
    return found


@bp.get("")
def index() -> Any:
    """Every connection with its health, last poll, versions and queue counts."""
    db = get_db()
    rows = list(db.execute(select(Company).order_by(Company.name)).scalars())
    facts = company_facts(db.connection(), rows)
    now = utcnow()
    items = [(c, facts[c.id], assess(facts[c.id], now)) for c in rows]
    return render_template("companies/list.html", items=items, warning=public_url_warning(services().settings))


def _new_form(value: CompanyInput, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    settings = services().settings
    page = render_template(
        "companies/new.html",
        value=value,
        errors=errors,
        settings=settings,
        warning=public_url_warning(settings),
        max_poll=MAX_POLL_MINUTES,
    )
    return page, status


@bp.get("/new")
@admin_only
def new() -> Any:
    """The form for a new connection, with the configured defaults filled in."""
    return _new_form(CompanyInput(poll_minutes=services().settings.default_poll_minutes), {})


@bp.post("/new")
@admin_only
def create() -> Any:
    """Create the connection and show its token in this response, the only time it is shown."""
    value, errors = read_company(request.form, services().settings.default_poll_minutes)
    if errors:
        return _new_form(value, errors, 400)
    db = get_db()
    try:
        created = companies.create_company(
            db.connection(), value.name, value.username, company_file=value.company_file or None,
            poll_minutes=value.poll_minutes, read_only=value.read_only,
        )  # fmt: skip
    except companies.InvalidCompany as exc:
        db.rollback()
        return _new_form(value, {"form": str(exc)}, 400)
    except Conflict as exc:
        db.rollback()
        return _new_form(value, {"form": str(exc)}, 409)
    db.commit()
    log(logging.INFO, "company_created", company=created.name, by=actor())
    return _detail(company_or_404(created.id), token=created.token, created=True)


@bp.get("/<int:company_id>")
def detail(company_id: int) -> Any:
    """One connection: health, settings, its Web Connector sessions and its newest jobs."""
    return _detail(company_or_404(company_id))


def _detail(
    company: Company,
    *,
    token: str | None = None,
    created: bool = False,
    schedule_form: dict[str, str] | None = None,
    schedule_error: str | None = None,
) -> Any:
    db = get_db()
    facts = company_facts(db.connection(), [company])[company.id]
    now = utcnow()
    current = schedule.read_schedule(company)
    plan = schedule.describe(current, now, waiting=facts.queued)
    form = schedule_form or {
        "mode": current.mode.value, "at": plan["at"] or "", "time_zone": current.time_zone or "",
    }  # fmt: skip
    sessions = db.execute(
        select(QbwcSession)
        .where(QbwcSession.company_id == company.id)
        .order_by(QbwcSession.started_at.desc())
        .limit(RECENT)
    ).scalars()
    queue = db.execute(
        select(Job.id, Job.kind, Job.reference, Job.state, Job.priority, Job.attempts, Job.status_code, Job.created_at)
        .where(Job.company_id == company.id)
        .order_by(Job.id.desc())
        .limit(RECENT)
    ).all()
    page = render_template(
        "companies/detail.html",
        company=company,
        documents=posted_documents(db.connection(), company.id, limit=RECENT),
        facts=facts,
        health=assess(facts, now),
        plan=plan,
        next_sync=_next_sync(current, plan),
        schedule_form=form,
        schedule_error=schedule_error,
        zones=_zones(),
        sessions=list(sessions),
        queue=queue,
        token=token,
        created=created,
        warning=public_url_warning(services().settings),
        endpoint=services().settings.endpoint_url,
        **panel(company.id),
    )
    response = Response(page, status=400 if schedule_error else 200)
    if token is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:company_id>/qwc")
@admin_only
def qwc(company_id: int) -> Any:
    """The .qwc file to open in the Web Connector, as a UTF-8 XML download."""
    company = company_or_404(company_id)
    xml = render_qwc(company, services().settings)
    response = Response(xml.encode("utf-8"), content_type=CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{qwc_filename(company)}"'
    return response


@bp.post("/<int:company_id>/token")
@admin_only
def rotate(company_id: int) -> Any:
    """Give the connection a new token (the old one fails at once) and show it once."""
    company = company_or_404(company_id)
    db = get_db()
    token = companies.rotate_token(db.connection(), company.name)
    db.commit()
    log(logging.INFO, "token_rotated", company=company.name, by=actor())
    return _detail(company_or_404(company_id), token=token)


@bp.post("/<int:company_id>/enabled")
@admin_only
def set_enabled(company_id: int) -> Any:
    """Enable or disable the connection (a disabled one is refused with ``nvu``)."""
    company = company_or_404(company_id)
    enabled = request.form.get("enabled") == "1"
    db = get_db()
    companies.set_enabled(db.connection(), company.name, enabled)
    db.commit()
    log(logging.INFO, "company_enabled" if enabled else "company_disabled", company=company.name, by=actor())
    if enabled:
        flash(f"{company.name} is enabled: the Web Connector can log in again.", "ok")
    else:
        flash(f"{company.name} is disabled: the Web Connector's logins are refused until it is enabled.", "warn")
    return redirect(url_for(".detail", company_id=company_id))


@bp.post("/<int:company_id>/retry-failed")
def retry_failed(company_id: int) -> Any:
    """Queue every failed job of the connection again."""
    company = company_or_404(company_id)
    db = get_db()
    count = jobs.retry_all_failed(db.connection(), company.id, actor=actor())
    db.commit()
    flash(f"{count} failed job{'s' if count != 1 else ''} of {company.name} queued again.", "ok")
    return redirect(url_for(".detail", company_id=company_id))


def _next_sync(current: schedule.Schedule, plan: dict[str, Any]) -> tuple[str, str] | None:
    """The next daily time as the company's clock and UTC show it, e.g. ``2026-03-08 22:00 CDT``."""
    if not plan["next_sync_at"]:
        return None
    utc = datetime.fromisoformat(plan["next_sync_at"])
    return f"{utc.astimezone(current.zone):%Y-%m-%d %H:%M %Z}", f"{utc:%Y-%m-%d %H:%M} UTC"


@functools.cache
def _zones() -> list[str]:
    """The IANA time zone names, for the schedule form's suggestions."""
    return sorted(zoneinfo.available_timezones())


@bp.post("/<int:company_id>/schedule")
@admin_only
def set_schedule(company_id: int) -> Any:
    """Set when the connection's queued work goes: every poll, daily at a time in a zone, or manually."""
    company = company_or_404(company_id)
    typed = {key: request.form.get(key, "").strip() for key in ("mode", "at", "time_zone")}
    db = get_db()
    try:
        mode = schedule.parse_mode(typed["mode"])
        daily = mode is schedule.SyncMode.DAILY
        saved = schedule.set_schedule(
            db.connection(), company.name, mode, at=typed["at"] if daily else None,
            time_zone=typed["time_zone"] if daily else None,
        )  # fmt: skip
    except schedule.InvalidSchedule as exc:
        db.rollback()
        return _detail(company, schedule_form=typed, schedule_error=str(exc))
    db.commit()
    shown = schedule.describe(saved, utcnow(), waiting=0)
    log(logging.INFO, "schedule_set", company=company.name, mode=shown["mode"], by=actor())
    flash(f"{company.name} now syncs {shown['summary']}.", "ok")
    return redirect(url_for(".detail", company_id=company_id))


@bp.post("/<int:company_id>/sync-now")
def sync_now(company_id: int) -> Any:
    """Release the connection's waiting work: it goes at the Web Connector's next poll."""
    company = company_or_404(company_id)
    db = get_db()
    schedule.sync_now(db.connection(), company.name)
    db.commit()
    log(logging.INFO, "sync_now", company=company.name, by=actor())
    flash(
        f"Sync now: the queued work of {company.name} goes at the Web Connector's next poll "
        f"(it polls every {company.poll_minutes} minutes).",
        "ok",
    )
    return redirect(url_for(".detail", company_id=company_id))
