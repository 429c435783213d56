"""Pages anyone may open: the Web Connector's support page and the front door."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for

from qbwc_service.web.context import services

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> Any:
    """Send visitors to the dashboard (which asks anonymous ones to log in)."""
    return redirect(url_for("dashboard_pages.index"))


@bp.get("/support")
def support() -> Any:
    """Help for the QuickBooks user; the .qwc file's AppSupport address points here."""
    settings = services().settings
    return render_template("support.html", app_name=settings.app_name, endpoint=settings.endpoint_url)
