"""The JSON API for producers: enqueue work, follow it, set a sync schedule. Authenticated with an API key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import DBAPIError

from qbwc_service.accounts import schedule
from qbwc_service.accounts.api_keys import api_key_owner
from qbwc_service.db import outages
from qbwc_service.errors import CompanyNotFound, JobNotFound, PayloadError
from qbwc_service.logs import log
from qbwc_service.queue import jobs
from qbwc_service.queue.views import load_job
from qbwc_service.web.context import services

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": message, **extra}), status


@bp.errorhandler(DBAPIError)
def _database_error(exc: DBAPIError) -> tuple[Response, int]:
    """503 with one clear line when the database cannot work for now (the transaction stored nothing)."""
    log(logging.ERROR, "database_error", endpoint=request.endpoint, reason=outages.logged(exc))
    if outages.is_outage(exc):
        return _error(503, outages.describe(exc, outages.STORE_LATER))
    return _error(500, "The service could not process this request; it was logged.")


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


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
    except CompanyNotFound as exc:
        return _error(404, str(exc))
    except PayloadError as exc:
        return _error(422, str(exc), errors=exc.errors)
    return jsonify(job), 201 if result.created else 200


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
    try:
        with services().engine.connect() as conn:
            return jsonify(schedule.show(conn, name))
    except CompanyNotFound as exc:
        return _error(404, str(exc))


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
    except CompanyNotFound as exc:
        return _error(404, str(exc))
    except schedule.InvalidSchedule as exc:
        return _error(422, str(exc))
    log(logging.INFO, "schedule_set", company=name, mode=shown["mode"], by=actor)
    return jsonify(shown)


@bp.post("/companies/<name>/sync-now")
@require_api_key
def post_sync_now(name: str, actor: str) -> Any:
    """Release the company's waiting work: it goes at the Web Connector's next poll."""
    try:
        with services().engine.begin() as conn:
            schedule.sync_now(conn, name)
            shown = schedule.show(conn, name)
    except CompanyNotFound as exc:
        return _error(404, str(exc))
    log(logging.INFO, "sync_now", company=name, by=actor)
    return jsonify(shown)
