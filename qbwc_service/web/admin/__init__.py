"""The admin and support pages: staff login, the dashboard, company connections, the job-queue console, incidents."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from qbwc_service.alerts.incidents import open_incidents
from qbwc_service.db.models import Role
from qbwc_service.web.admin import (
    auth,
    company_pages,
    dashboard_pages,
    import_pages,
    incident_pages,
    job_pages,
    public,
    session_pages,
    setup_pages,
)
from qbwc_service.web.admin.filters import FILTERS
from qbwc_service.web.context import get_db, services

__all__ = ["init_app"]

#: Sent with every HTML page: no framing, no foreign scripts, styles or form targets.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Register the admin blueprints, the signed-in user, template helpers and error pages."""
    blueprints = (public.bp, auth.bp, dashboard_pages.bp, company_pages.bp, setup_pages.bp, import_pages.bp,
                  job_pages.bp, session_pages.bp, incident_pages.bp)  # fmt: skip
    for bp in blueprints:
        app.register_blueprint(bp)
    app.before_request(auth.load_user)
    app.jinja_env.filters.update(FILTERS)

    @app.context_processor
    def staff_context() -> dict[str, Any]:
        user = auth.current_user()
        is_admin = user is not None and user.role is Role.ADMIN
        found: dict[str, Any] = {"user": user, "is_admin": is_admin}
        found["signing_key_source"] = services().signing_key_source
        if user is not None:  # the banner of open incidents, on every page of a signed-in user
            found["open_incident_count"], found["open_incidents"] = open_incidents(get_db().connection())
        return found

    @app.after_request
    def security_headers(response: Response) -> Response:
        if response.mimetype == "text/html":
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            if auth.current_user() is not None:
                response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        message = "The form was too old or did not come from this site. Go back, reload the page and try again."
        return render_template("error.html", code=400, title="Form expired", message=message), 400

    for code, title in ((403, "Not allowed"), (404, "Not found"), (405, "Not allowed this way")):
        app.register_error_handler(code, _error_page(title))


def _error_page(title: str) -> Any:
    def handler(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return exc
        code = exc.code or 500
        return render_template("error.html", code=code, title=title, message=exc.description), code

    return handler
