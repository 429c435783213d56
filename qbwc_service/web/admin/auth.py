"""Staff login and logout, the signed-in user, and the role checks of the other pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from qbwc_service.accounts.staff import Throttle, check_password
from qbwc_service.db.models import Role, StaffUser
from qbwc_service.logs import log
from qbwc_service.web.admin.forms import read_login
from qbwc_service.web.context import get_db, services

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> StaffUser | None:
    """The signed-in staff user of this request, or None."""
    user: StaffUser | None = g.get("user")
    return user


def load_user() -> None:
    """Find the user the session cookie names; a removed or deactivated user is signed out."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = get_db().get(StaffUser, user_id)
    if user is None or not user.active:
        session.clear()
        return
    g.user = user


def require_user() -> Response | None:
    """``before_request`` hook of the staff blueprints: send anonymous visitors to the login page."""
    if current_user() is None:
        if request.headers.get("HX-Request"):  # a live part of a page whose sign-in ended: reload into the login
            return Response("", 401, {"HX-Redirect": url_for("auth.login")})
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def admin_only(view: F) -> F:
    """Let only admins run ``view``; support staff get 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None or user.role is not Role.ADMIN:
            abort(403, "This page is for admins.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


def actor() -> str:
    """What the job history records as the staff user acting: their e-mail address."""
    user = current_user()
    assert user is not None, "staff views run after require_user"
    return user.email


def _throttle() -> Throttle:
    settings = services().settings
    return Throttle(settings.login_max_failures, timedelta(seconds=settings.login_window_seconds))


@bp.get("/login")
def login() -> Any:
    """The login form (signed-in users go straight on)."""
    if current_user() is not None:
        return redirect(url_for("dashboard_pages.index"))
    return render_template("auth/login.html", email="", next=request.args.get("next", ""), error=None)


@bp.post("/login")
def login_post() -> Any:
    """Check the e-mail and password, unless this e-mail and address failed too often lately."""
    form = read_login(request.form)
    ip = (request.remote_addr or "unknown")[:64]
    throttle = _throttle()
    db = get_db()
    conn = db.connection()
    wait = throttle.retry_after(conn, form.email, ip)
    if wait:
        db.rollback()
        log(logging.WARNING, "staff_login_throttled", email=form.email, ip=ip)
        minutes = max(1, round(wait / 60))
        error = f"Too many failed logins. Try again in about {minutes} minute{'s' if minutes != 1 else ''}."
        page = render_template("auth/login.html", email=form.email, next=form.next_url, error=error)
        return page, 429, {"Retry-After": str(wait)}
    user_id = check_password(conn, form.email, form.password) if form.email else None
    if user_id is None:
        throttle.record_failure(conn, form.email, ip)
        db.commit()
        log(logging.WARNING, "staff_login_failed", email=form.email, ip=ip)
        error = "That e-mail address and password do not match an active staff account."
        return render_template("auth/login.html", email=form.email, next=form.next_url, error=error), 401
    throttle.clear(conn, form.email, ip)
    db.commit()
    session.clear()
    session["user_id"] = user_id
    log(logging.INFO, "staff_login", email=form.email)
    return redirect(form.next_url or url_for("dashboard_pages.index"))


@bp.post("/logout")
def logout() -> Any:
    """Sign out and return to the login page."""
    session.clear()
    return redirect(url_for("auth.login"))
