"""Web Connector sessions: every run of every company, newest first."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from qbwc_service.db.models import Company, QbwcSession, SessionState
from qbwc_service.web.admin.auth import require_user
from qbwc_service.web.context import get_db

bp = Blueprint("session_pages", __name__, url_prefix="/sessions")
bp.before_request(require_user)

#: Sessions shown at once.
LIMIT = 100


@bp.get("")
def index() -> Any:
    """The newest Web Connector sessions, optionally of one company or in one state."""
    db = get_db()
    query = (
        select(QbwcSession, Company.name)
        .join(Company, Company.id == QbwcSession.company_id)
        .order_by(QbwcSession.started_at.desc())
        .limit(LIMIT)
    )
    company_id = request.args.get("company", "").strip()
    if company_id.isdigit():
        query = query.where(QbwcSession.company_id == int(company_id))
    state = request.args.get("state", "").strip()
    if state in {s.value for s in SessionState}:
        query = query.where(QbwcSession.state == SessionState(state))
    rows = db.execute(query).all()
    names = db.execute(select(Company.id, Company.name).order_by(Company.name)).all()
    return render_template(
        "sessions/list.html",
        rows=rows,
        companies=names,
        states=list(SessionState),
        company_id=int(company_id) if company_id.isdigit() else None,
        state=state,
        limit=LIMIT,
    )
