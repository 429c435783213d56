"""The JSON API for producers: enqueue and follow work, schedules, company setup, imports and records. With a key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import DBAPIError

from qbwc_service.accounts import schedule
from qbwc_service.accounts.api_keys import api_key_owner
from qbwc_service.db import outages
from qbwc_service.errors import CompanyNotFound, Conflict, JobNotFound, PayloadError
from qbwc_service.logs import log
from qbwc_service.queue import jobs
from qbwc_service.queue.views import load_job
from qbwc_service.web.context import bearer_token, services
from qbwc_service.workflows import imports
from qbwc_service.workflows.documents import post as documents
from qbwc_service.workflows.setup import profile as setup_profile
from qbwc_service.workflows.setup import profiles, reset, runs
from qbwc_service.workflows.setup.profile import ProfileError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": message, **extra}), status


@bp.errorhandler(CompanyNotFound)
def _company_not_found(exc: CompanyNotFound) -> tuple[Response, int]:
    """Every route naming an unknown company answers 404 with the sentence."""
    return _error(404, str(exc))


@bp.errorhandler(DBAPIError)
def _database_error(exc: DBAPIError) -> tuple[Response, int]:
    """503 with one clear line when the database cannot work for now (the transaction stored nothing)."""
    log(logging.ERROR, "database_error", endpoint=request.endpoint, reason=outages.logged(exc))
    if outages.is_outage(exc):
        return _error(503, outages.describe(exc, outages.STORE_LATER))
    return _error(500, "The service could not process this request; it was logged.")


def _presented_key() -> str | None:
    return bearer_token() or request.headers.get("X-API-Key") or None


def require_api_key(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the request with 401 unless it carries a valid API key."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _presented_key()
        if not key:
            return _error(401, "an API key is required: send 'Authorization: Bearer <key>'")
        with services().engine.begin() as conn:
            owner = api_key_owner(conn, key)
        if owner is None:
            return _error(401, "the API key is not valid")
        return view(*args, actor=f"api:{owner}", **kwargs)

    return wrapper


@bp.post("/companies/<name>/jobs")
@require_api_key
def enqueue_job(name: str, actor: str) -> Any:
    """Queue one job: ``{"kind", "payload", "idempotency_key"?, "priority"?, "depends_on"?}``.

    ``depends_on`` is a job id or a list of them.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "the request body must be a JSON object")
    kind, payload = body.get("kind"), body.get("payload")
    if not isinstance(kind, str) or not isinstance(payload, dict):
        return _error(400, "'kind' (a string) and 'payload' (an object) are required")
    priority, depends_on, key = (
        body.get("priority", 0),
        body.get("depends_on"),
        body.get("idempotency_key"),
    )
    if isinstance(depends_on, int) and not isinstance(depends_on, bool):
        depends_on = [depends_on]
    ids_ok = isinstance(depends_on, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in depends_on)
    if not isinstance(priority, int) or (depends_on is not None and not ids_ok):
        return _error(400, "'priority' must be a whole number and 'depends_on' a job id or a list of job ids")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 200):
        return _error(400, "'idempotency_key' must be a string of 1 to 200 characters")
    try:
        with services().engine.begin() as conn:
            result = jobs.enqueue(
                conn,
                name,
                kind,
                payload,
                idempotency_key=key,
                max_attempts=services().settings.max_attempts,
                priority=priority,
                depends_on=depends_on,
                actor=actor,
            )
            job = load_job(conn, result.job_id)
    except PayloadError as exc:
        return _error(422, str(exc), errors=exc.errors)
    if result.document_id is not None:
        job["document"] = {"id": result.document_id, "jobs": list(result.jobs), "warnings": list(result.warnings)}
    return jsonify(job), 201 if result.created else 200


@bp.get("/companies/<name>/documents")
@require_api_key
def list_documents(name: str, actor: str) -> Any:
    """The company's newest business documents (shop invoices, POS days) with their jobs' states and totals."""
    with services().engine.connect() as conn:
        company = profiles.company_row(conn, name)
        return jsonify({"documents": documents.documents(conn, company.id)})


@bp.get("/jobs/<int:job_id>")
@require_api_key
def get_job(job_id: int, actor: str) -> Any:
    """One job with its state, QuickBooks status and result."""
    try:
        with services().engine.connect() as conn:
            return jsonify(load_job(conn, job_id))
    except JobNotFound as exc:
        return _error(404, str(exc))


@bp.get("/companies/<name>/schedule")
@require_api_key
def get_schedule(name: str, actor: str) -> Any:
    """The company's sync schedule, its next sync and the jobs waiting for it."""
    with services().engine.connect() as conn:
        return jsonify(schedule.show(conn, name))


@bp.put("/companies/<name>/schedule")
@require_api_key
def put_schedule(name: str, actor: str) -> Any:
    """Set the schedule: ``{"mode": "every_poll" | "manual" | "daily", "at"?: "HH:MM", "time_zone"?: ZONE}``."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("mode"), str):
        return _error(400, "the request body must be a JSON object with 'mode': every_poll, daily or manual")
    at, zone = body.get("at"), body.get("time_zone")
    if not all(v is None or isinstance(v, str) for v in (at, zone)):
        return _error(400, "'at' (HH:MM) and 'time_zone' (an IANA name) are strings")
    try:
        with services().engine.begin() as conn:
            schedule.set_schedule(conn, name, schedule.parse_mode(body["mode"]), at=at, time_zone=zone)
            shown = schedule.show(conn, name)
    except schedule.InvalidSchedule as exc:
        return _error(422, str(exc))
    log(logging.INFO, "schedule_set", company=name, mode=shown["mode"], by=actor)
    return jsonify(shown)


@bp.post("/companies/<name>/sync-now")
@require_api_key
def post_sync_now(name: str, actor: str) -> Any:
    """Release the company's waiting work: it goes at the Web Connector's next poll."""
    with services().engine.begin() as conn:
        schedule.sync_now(conn, name)
        shown = schedule.show(conn, name)
    log(logging.INFO, "sync_now", company=name, by=actor)
    return jsonify(shown)


# -- company setup ------------------------------------------------------------------------


@bp.get("/profile-schema")
@require_api_key
def profile_schema(actor: str) -> Any:
    """The JSON Schema of an integration profile."""
    return jsonify(setup_profile.schema())


@bp.get("/companies/<name>/profile")
@require_api_key
def get_profile(name: str, actor: str) -> Any:
    """The profile in force (``version`` null: the default) and every saved version."""
    with services().engine.connect() as conn:
        company = profiles.company_row(conn, name)
        version, found = profiles.current(conn, company.id)
        history = profiles.history(conn, company.id)
    return jsonify({"company": company.name, "version": version, "profile": setup_profile.to_json(found),
                    "history": history})  # fmt: skip


@bp.put("/companies/<name>/profile")
@require_api_key
def put_profile(name: str, actor: str) -> Any:
    """Save a new version of the profile (the body); 422 names each problem."""
    body = request.get_json(silent=True)
    try:
        with services().engine.begin() as conn:
            company = profiles.company_row(conn, name)
            version, changed = profiles.save(conn, company.id, body, actor=actor)
    except ProfileError as exc:
        return _error(422, str(exc), errors=exc.errors)
    return jsonify({"company": company.name, "version": version, "changed": changed}), 201 if changed else 200


@bp.get("/companies/<name>/setup")
@require_api_key
def get_setup(name: str, actor: str) -> Any:
    """The company's setup: whether it is required, the current run and each step (name, state, message, ListID)."""
    with services().engine.connect() as conn:
        return jsonify(runs.show(conn, name))


@bp.post("/companies/<name>/setup")
@require_api_key
def run_setup(name: str, actor: str) -> Any:
    """Queue a setup run from the profile in force; the Web Connector's next run carries it out."""
    try:
        with services().engine.begin() as conn:
            runs.start(conn, name, actor=actor, max_attempts=services().settings.max_attempts)
            shown = runs.show(conn, name)
    except ProfileError as exc:
        return _error(422, str(exc), errors=exc.errors)
    except Conflict as exc:
        return _error(409, str(exc))
    return jsonify(shown), 201


@bp.post("/companies/<name>/reset")
@require_api_key
def reset_company(name: str, actor: str) -> Any:
    """Reset the company's integration: ``{"reason": ...}`` is required."""
    body = request.get_json(silent=True)
    reason = body.get("reason") if isinstance(body, dict) else None
    try:
        with services().engine.begin() as conn:
            return jsonify(reset.reset(conn, name, actor=actor, reason=reason if isinstance(reason, str) else ""))
    except reset.ResetRefused as exc:
        return _error(422, str(exc))


# -- imports from QuickBooks and the records they keep ------------------------------------


def _company_id(conn: Any, name: str) -> int:
    return jobs.company_id_by_name(conn, name)


@bp.post("/companies/<name>/imports")
@require_api_key
def start_import(name: str, actor: str) -> Any:
    """Queue an import: ``{"list": "customers", "full": false}``; the import already queued is returned."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("list"), str):
        return _error(400, "the request body must be a JSON object with 'list' (customers, items, vendors, ...)")
    full = body.get("full", False)
    if not isinstance(full, bool):
        return _error(400, "'full' must be true or false")
    try:
        with services().engine.begin() as conn:
            started = imports.start_import(conn, name, body["list"], full=full, actor=actor,
                                           max_attempts=services().settings.max_attempts)  # fmt: skip
            found = imports.status(conn, _company_id(conn, name), body["list"])
    except imports.UnknownList as exc:
        return _error(404, str(exc))
    return jsonify(found.to_json()), 201 if started.created else 200


@bp.get("/companies/<name>/imports")
@require_api_key
def import_statuses(name: str, actor: str) -> Any:
    """The latest import of every list, with its progress, and the list sizes against the edition's limits."""
    with services().engine.connect() as conn:
        company_id = _company_id(conn, name)
        sizes = imports.list_sizes(conn, company_id)
        return jsonify({
            "imports": [s.to_json() for s in imports.statuses(conn, company_id)],
            "list_sizes": sizes.to_json() if sizes else None,
            "name_conflicts": [c.to_json() for c in imports.name_conflicts(conn, company_id)],
        })  # fmt: skip


def _flag(text: str | None, what: str) -> bool | None:
    if text is None or text == "":
        return None
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"'{what}' must be true or false")


@bp.get("/companies/<name>/records/<list_name>")
@require_api_key
def list_records(name: str, list_name: str, actor: str) -> Any:
    """A page of imported records: ``q``, ``modified_since`` (ISO time), ``active``, ``after`` (cursor), ``limit``."""
    args = request.args
    try:
        active = _flag(args.get("active"), "active")
        since_text = args.get("modified_since")
        since = datetime.fromisoformat(since_text) if since_text else None
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        after = int(args["after"]) if args.get("after") else None
        limit = int(args.get("limit", imports.DEFAULT_PAGE))
    except ValueError as exc:
        message = (
            str(exc)
            if "must be" in str(exc)
            else ("'modified_since' must be an ISO date-time; 'after' and 'limit' whole numbers")
        )
        return _error(400, message)
    if limit < 1:
        return _error(400, "'limit' must be 1 or more")
    try:
        with services().engine.connect() as conn:
            page = imports.records(conn, _company_id(conn, name), list_name, q=args.get("q") or None,
                                   modified_since=since, active=active, after=after, limit=limit)  # fmt: skip
    except (CompanyNotFound, imports.UnknownList) as exc:
        return _error(404, str(exc))
    return jsonify({"records": page.records, "next_after": page.next_after})
