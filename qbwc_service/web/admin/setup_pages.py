"""A company's "Setup" page: its integration profile as a form, the setup run's steps, and reset."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from qbwc_service.db.models import Company
from qbwc_service.errors import Conflict
from qbwc_service.logs import log
from qbwc_service.web.admin.auth import actor, require_user
from qbwc_service.web.admin.company_pages import company_or_404
from qbwc_service.web.context import get_db, services
from qbwc_service.workflows import imports
from qbwc_service.workflows.setup import profile as model
from qbwc_service.workflows.setup import profiles, reset, runs
from qbwc_service.workflows.setup.profile import ProfileError
from qbxml_builders.accounts import AccountType

bp = Blueprint("setup_pages", __name__, url_prefix="/companies")
bp.before_request(require_user)

#: The labels of the step states, and their badge colours (the job states' classes).
STATE_CLASS = {"waiting": "queued", "done": "done", "already there": "done", "failed": "failed",
               "cancelled": "cancelled"}  # fmt: skip


def _page(
    company: Company, body: dict[str, Any] | None = None, errors: list[str] | None = None, status: int = 200
) -> tuple[str, int]:
    conn = get_db().connection()
    version, current = profiles.current(conn, company.id)
    shown = runs.show(conn, company.id)
    page = render_template(
        "companies/setup.html", company=company, setup=shown, version=version,
        history=profiles.history(conn, company.id),
        profile=body or model.to_json(current), errors=errors or [], roles=list(model.Role),
        account_types=[str(t) for t in AccountType], item_types=[str(t) for t in model.ItemType],
        state_class=STATE_CLASS, choices=name_choices(conn, company.id),
    )  # fmt: skip
    return page, status


#: The form's datalists and the imported list each offers.
CHOICE_LISTS = {"account-names": "accounts", "item-names": "items", "vendor-names": "vendors"}


def name_choices(conn: Any, company_id: int) -> dict[str, list[str]]:
    """The names QuickBooks has, by datalist (``account-names``, ``item-names``, ``vendor-names``), once imported.

    The active names an import brought (:func:`qbwc_service.workflows.imports.names`); a list
    never imported offers none, and its fields stay free text.
    """
    found = {datalist: imports.names(conn, company_id, list_name) for datalist, list_name in CHOICE_LISTS.items()}
    return {datalist: names for datalist, names in found.items() if names}


@bp.get("/<int:company_id>/setup")
def setup(company_id: int) -> Any:
    """The profile form, and the current run's steps with their states and progress."""
    return _page(company_or_404(company_id))


def read_form(form: MultiDict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """The profile the form describes: the one shown, with each field the form sends set from it.

    Fields are named by their path (``accounts.income.name``); ``yes``/``no`` become booleans,
    an empty optional field is left out. Entries the form does not show are kept as they are.
    """
    out: dict[str, Any] = {**base, "accounts": {k: dict(v) for k, v in base.get("accounts", {}).items()},
                           "line_kinds": {k: dict(v) for k, v in base.get("line_kinds", {}).items()},
                           "sales_tax": {k: dict(v) if isinstance(v, dict) else v
                                         for k, v in base.get("sales_tax", {}).items()}}  # fmt: skip
    for name, raw in form.items():
        path = name.split(".")
        if path[0] not in ("system", "country", "item_prefix", "accounts", "line_kinds", "sales_tax"):
            continue
        value: Any = raw.strip() if path[-1] != "item_prefix" else raw
        if value in ("yes", "no"):
            value = value == "yes"
        target = out
        for part in path[:-1]:
            child = target.get(part)
            if not isinstance(child, dict):
                child = target[part] = {}
            target = child
        if value == "" and path[-1] in ("income_account", "expense_account", "description"):
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    return out


@bp.post("/<int:company_id>/setup/profile")
def save_profile(company_id: int) -> Any:
    """Save the form as a new version of the profile (or say what is wrong, keeping what was typed)."""
    company = company_or_404(company_id)
    db = get_db()
    conn = db.connection()
    body = read_form(request.form, model.to_json(profiles.current(conn, company.id)[1]))
    try:
        version, changed = profiles.save(conn, company.id, body, actor=actor())
    except ProfileError as exc:
        db.rollback()
        return _page(company, body, exc.errors, 400)
    db.commit()
    if changed:
        log(logging.INFO, "profile_saved", company=company.name, version=version, by=actor())
        flash(f"Profile version {version} saved.", "ok")
    else:
        flash("Nothing changed in the profile.", "ok")
    return redirect(url_for(".setup", company_id=company_id))


@bp.post("/<int:company_id>/setup/run")
def run(company_id: int) -> Any:
    """Queue a setup run: the Web Connector's next run carries it out."""
    company = company_or_404(company_id)
    db = get_db()
    try:
        run_id = runs.start(db.connection(), company.id, actor=actor(), max_attempts=services().settings.max_attempts)
    except (ProfileError, Conflict) as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".setup", company_id=company_id))
    db.commit()
    log(logging.INFO, "setup_started", company=company.name, run=run_id, by=actor())
    flash(f"Setup run {run_id} queued: it runs at the Web Connector's next run.", "ok")
    return redirect(url_for(".setup", company_id=company_id))


@bp.post("/<int:company_id>/reset")
def reset_company(company_id: int) -> Any:
    """Reset the company's integration, with the reason given (support staff and admins)."""
    company = company_or_404(company_id)
    db = get_db()
    try:
        done = reset.reset(db.connection(), company.id, actor=actor(), reason=request.form.get("reason", ""))
    except reset.ResetRefused as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("company_pages.detail", company_id=company_id))
    db.commit()
    flash(
        f"{company.name} was reset: {done['cancelled']} queued jobs cancelled, {done['forgotten']} mapping entries "
        "forgotten. Setup is required again; nothing was deleted in QuickBooks.",
        "warn",
    )
    return redirect(url_for(".setup", company_id=company_id))
