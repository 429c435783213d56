"""Incidents: every open one and the history of closed ones, and one incident's whole story."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from qbwc_service.alerts import incidents
from qbwc_service.alerts.sweep import channels
from qbwc_service.web.admin.auth import require_user
from qbwc_service.web.context import get_db, services

bp = Blueprint("incident_pages", __name__, url_prefix="/incidents")
bp.before_request(require_user)

#: Incidents listed: all open ones first, then the newest closed ones.
LISTED = 100


@bp.get("")
def index() -> Any:
    """Open incidents, then closed ones, newest first."""
    rows = incidents.recent(get_db().connection(), LISTED)
    settings = services().settings
    return render_template(
        "incidents/list.html", rows=rows, channels=channels(settings), sweep_seconds=settings.alert_sweep_seconds
    )


@bp.get("/<int:incident_id>")
def detail(incident_id: int) -> Any:
    """One incident: what was wrong, when it opened and cleared, each message sent or failed."""
    conn = get_db().connection()
    found = incidents.get(conn, incident_id)
    if found is None:
        abort(404, f"There is no incident number {incident_id}.")
    return render_template(
        "incidents/detail.html",
        incident=found,
        history=incidents.history(conn, incident_id),
        deliveries=incidents.deliveries(conn, incident_id),
    )
