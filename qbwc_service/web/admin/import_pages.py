"""Imports from QuickBooks on the admin pages: start one, and each list's records with search."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from qbwc_service.db.models import Company
from qbwc_service.logs import log
from qbwc_service.web.admin.auth import actor, require_user
from qbwc_service.web.context import get_db, services
from qbwc_service.workflows import imports

bp = Blueprint("import_pages", __name__, url_prefix="/companies")
bp.before_request(require_user)

#: Records shown per page.
PAGE = 50


def _company_or_404(company_id: int) -> Company:
    found = get_db().get(Company, company_id)
    if found is None:
        abort(404, f"There is no company connection number {company_id}.")
    return found


def panel(company_id: int) -> dict[str, Any]:
    """What the company page shows of imports: each list's latest import, the list sizes, name conflicts."""
    conn = get_db().connection()
    return {
        "imports": imports.statuses(conn, company_id),
        "sizes": imports.list_sizes(conn, company_id),
        "conflicts": imports.name_conflicts(conn, company_id),
        "lists": imports.LISTS,
    }


@bp.post("/<int:company_id>/imports")
def start(company_id: int) -> Any:
    """Queue an import of one list (``full`` forces a full one); it runs at the Web Connector's next session."""
    company = _company_or_404(company_id)
    list_name = request.form.get("list", "")
    if list_name not in imports.LISTS:
        abort(400, f"There is no list called {list_name!r} to import.")
    full = request.form.get("full") == "1"
    db = get_db()
    started = imports.start_import(db.connection(), company.id, list_name, full=full, actor=actor(),
                                   max_attempts=services().settings.max_attempts)  # fmt: skip
    db.commit()
    label = imports.LISTS[list_name].label
    if started.created:
        log(logging.INFO, "import_queued", company=company.name, list=list_name, full=started.full, by=actor())
        how = "all of them" if started.full else f"the changes since {started.since}"
        flash(f"Import of the {label} queued as job {started.job_id} ({how}); it runs at the Web Connector's "
              "next session.", "ok")  # fmt: skip
    else:
        flash(f"An import of the {label} is queued already (job {started.job_id}).", "warn")
    return redirect(url_for("company_pages.detail", company_id=company_id) + "#imports")


@bp.get("/<int:company_id>/records/<list_name>")
def records(company_id: int, list_name: str) -> Any:
    """The imported records of one list, searchable by name, a page at a time."""
    company = _company_or_404(company_id)
    if list_name not in imports.LISTS:
        abort(404, f"There is no list called {list_name!r}.")
    q = request.args.get("q", "").strip()
    after_text = request.args.get("after", "")
    after = int(after_text) if after_text.isdigit() else None
    active_text = request.args.get("active", "")
    active = {"yes": True, "no": False}.get(active_text)
    page = imports.records(get_db().connection(), company.id, list_name, q=q or None, active=active, after=after,
                           limit=PAGE)  # fmt: skip
    return render_template(
        "companies/records.html", company=company, list_name=list_name, lists=imports.LISTS, page=page, q=q,
        active=active_text, after=after,
    )  # fmt: skip
