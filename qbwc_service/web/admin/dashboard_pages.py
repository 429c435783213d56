"""The dashboard, the first page after sign-in: live counts, per-hour chart, each company's health."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from qbwc_service.db.models import JobState, utcnow
from qbwc_service.web.admin.auth import require_user
from qbwc_service.web.admin.dashboard import chart, overview, per_hour
from qbwc_service.web.context import get_db, services

bp = Blueprint("dashboard_pages", __name__, url_prefix="/dashboard")
bp.before_request(require_user)


def _live() -> dict[str, Any]:
    return {
        "view": overview(get_db(), utcnow()),
        "states": list(JobState),
        "refresh": max(1, services().settings.dashboard_refresh_seconds),
    }


@bp.get("")
def index() -> Any:
    """The whole dashboard; its live part then refreshes itself through htmx."""
    series = per_hour(get_db().connection(), utcnow())
    return render_template("dashboard/index.html", chart=chart(series), **_live())


@bp.get("/live")
def live() -> Any:
    """The live part alone (counts, oldest queued job, health), which htmx swaps in every few seconds."""
    return render_template("dashboard/_live.html", **_live())
