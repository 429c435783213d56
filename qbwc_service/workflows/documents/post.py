"""Posting a document: its plan queued as jobs, once per key, within the edition's list limits.

:func:`post` runs in the caller's transaction, so a document is queued whole or not at all:
the ``document`` row, an ensure job for each entry neither QuickBooks (as imported) nor the
queue has yet, then its transactions, their :func:`~.common.planned` refs made
``{"job": N}``. The same key posted again with the same content returns what the first
post queued; with other content it is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from qbwc_service.db.models import Document, Job, JobState, QbRecord, utcnow
from qbwc_service.errors import PayloadError
from qbwc_service.queue import jobs
from qbwc_service.queue.steps import Expanded
from qbwc_service.workflows.documents import pos, shop
from qbwc_service.workflows.documents.common import Context, Ensure, Plan, Problems
from qbwc_service.workflows.imports.counts import ITEM_LIMIT, NAME_LIMIT, NAME_LISTS, WARN_AT, list_sizes
from qbwc_service.workflows.setup import kinds as setup_kinds
from qbwc_service.workflows.setup import mapping, profiles
from qbwc_service.workflows.setup import plan as setup_plan
from qbwc_service.workflows.setup.profile import Mode

D = Document.metadata.tables["document"]
J = Job.metadata.tables["job"]
#: How far back the documents' new names count towards the projected list size.
RECENT = timedelta(days=30)
#: The kinds whose jobs create a list's entries.
_CREATORS = {
    "customers": ("customer_add", "customer_ensure"),
    "items": (
        *(f"item_{t}_{v}" for t in ("service", "non_inventory", "other_charge", "inventory", "discount")
          for v in ("add", "ensure")),
        "setup_ensure",
    ),
}  # fmt: skip
_MODELS: dict[str, Any] = {shop.KIND: (shop.ShopInvoice, shop.plan), pos.KIND: (pos.PosDay, pos.plan)}


def context(conn: Connection, company_id: int) -> Context:
    """The company as its documents post."""
    row = profiles.company_row(conn, company_id)
    _version, profile = profiles.current(conn, company_id)
    country = (row.qbxml_country or profile.country).upper()
    pending = conn.execute(
        select(J.c.creates).where(J.c.company_id == company_id, J.c.kind == setup_kinds.ENSURE,
                                  J.c.state.in_([JobState.QUEUED, JobState.IN_FLIGHT]), J.c.creates.is_not(None))
    ).scalars()  # fmt: skip
    names = {e.key: str(e.fields["name"]) for e in setup_plan.entries(profile) if "name" in e.fields}
    return Context(company_id, country, profile, mapping.resolved(conn, company_id), frozenset(pending), names)


def digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 of a validated document."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def post(
    conn: Connection, company_id: int, kind: str, payload: dict[str, Any], *, actor: str, priority: int = 0,
    max_attempts: int = 5,
) -> Expanded:  # fmt: skip
    """Queue a validated document's jobs (see the module's docstring); :class:`PayloadError` when it cannot post."""
    model, planner = _MODELS[kind]
    doc = model.model_validate(payload)
    ctx = context(conn, company_id)
    problems = Problems()
    plan: Plan = planner(doc, ctx, problems)
    problems.check(kind)
    sign = digest(payload)
    earlier = _earlier(conn, company_id, kind, plan.key, sign)
    if earlier is not None:
        return earlier
    new = [e for e in plan.ensures if not _known(conn, company_id, e)]
    warnings = _limits(conn, ctx, kind, new)
    names: dict[str, list[str]] = {}
    for e in new:
        names.setdefault(e.list, []).append(e.name)
    now = utcnow()
    try:
        with conn.begin_nested():
            document_id = conn.execute(
                insert(D).values(company_id=company_id, kind=kind, key=plan.key[:80], mode=plan.mode, digest=sign,
                                 jobs=[], names=names, totals=plan.totals, posted_at=now, actor=actor[:64])
                .returning(D.c.id)
            ).scalar_one()  # fmt: skip
    except IntegrityError:
        found = _earlier(conn, company_id, kind, plan.key, sign)
        if found is None:
            raise
        return found
    queued: list[int] = []
    for e in new:
        queued.append(_enqueue(conn, company_id, kind, e.kind, e.payload, f"{e.list} {e.name!r}", actor, priority,
                               max_attempts))  # fmt: skip
    labels: dict[str, int] = {}
    for job in plan.jobs:
        body = _resolve(job.payload, labels)
        labels[job.label] = _enqueue(conn, company_id, kind, job.kind, body, job.label, actor, priority, max_attempts)
        queued.append(labels[job.label])
    conn.execute(update(D).where(D.c.id == document_id).values(jobs=queued))
    main = next(iter(labels.values()), queued[0] if queued else 0)
    return Expanded(main, True, tuple(queued), document_id, tuple(warnings))


def _enqueue(
    conn: Connection, company_id: int, kind: str, job_kind: str, payload: dict[str, Any], label: str, actor: str,
    priority: int, max_attempts: int,
) -> int:  # fmt: skip
    try:
        return jobs.enqueue(conn, company_id, job_kind, payload, priority=priority, max_attempts=max_attempts,
                            actor=actor).job_id  # fmt: skip
    except PayloadError as exc:
        raise PayloadError(kind, [f"{label} ({job_kind}): {e}" for e in exc.errors]) from exc


def _resolve(payload: Any, labels: Mapping[str, int]) -> Any:
    """``payload`` with each ``{"planned": label}`` made ``{"job": N}``."""
    if isinstance(payload, Mapping):
        if set(payload) == {"planned"}:
            return {"job": labels[payload["planned"]]}
        return {k: _resolve(v, labels) for k, v in payload.items()}
    if isinstance(payload, list):
        return [_resolve(v, labels) for v in payload]
    return payload


def _earlier(conn: Connection, company_id: int, kind: str, key: str, sign: str) -> Expanded | None:
    """What an earlier post of the same key queued; refused when its content differed."""
    row = conn.execute(
        select(D.c.id, D.c.jobs, D.c.digest, D.c.posted_at).where(
            D.c.company_id == company_id, D.c.kind == kind, D.c.key == key[:80]
        )
    ).first()
    if row is None:
        return None
    if row.digest != sign:
        what = "repair order" if kind == shop.KIND else "day and location"
        raise PayloadError(kind, [
            f"this {what} ({key}) was posted on {row.posted_at:%Y-%m-%d %H:%M} UTC (document {row.id}) with other "
            "content; a document posts once: correct it in QuickBooks, or post the difference as a document of "
            "its own"])  # fmt: skip
    ids = [int(j) for j in row.jobs or []]
    main = conn.execute(
        select(J.c.id).where(J.c.id.in_(ids), J.c.kind.not_like("%\\_ensure", escape="\\")).order_by(J.c.id).limit(1)
    ).scalar()
    return Expanded(int(main or (ids[0] if ids else 0)), False, tuple(ids), int(row.id))


def _known(conn: Connection, company_id: int, entry: Ensure) -> bool:
    """Whether QuickBooks has the entry (imported), or a job of the queue has made or will make it."""
    name_key = entry.name.casefold()
    imported = conn.execute(
        select(QbRecord.id).where(QbRecord.company_id == company_id, QbRecord.list == entry.list,
                                  QbRecord.name_key == name_key).limit(1)
    ).first()  # fmt: skip
    if imported is not None:
        return True
    queued = conn.execute(
        select(J.c.id).where(J.c.company_id == company_id, J.c.creates == name_key[:209],
                             J.c.kind.in_(_CREATORS[entry.list]),
                             J.c.state.in_([JobState.QUEUED, JobState.IN_FLIGHT, JobState.DONE])).limit(1)
    ).first()  # fmt: skip
    return queued is not None


def _limits(conn: Connection, ctx: Context, kind: str, new: list[Ensure]) -> list[str]:
    """Refuse detailed mode past the edition's list limit; warnings from :data:`WARN_AT` of it."""
    sizes = list_sizes(conn, ctx.company_id)
    if sizes is None or not sizes.limited:
        return []
    warnings, problems = [], []
    for list_name, limit in (("customers", NAME_LIMIT), ("items", ITEM_LIMIT)):
        adding = {e.name.casefold() for e in new if e.list == list_name}
        if not adding or getattr(ctx.profile.posting, list_name) is not Mode.DETAILED:
            continue
        today = sum(sizes.counts.get(n, 0) for n in NAME_LISTS) if list_name == "customers" else sizes.counts.get(
            "items", 0)  # fmt: skip
        recent = _recent_names(conn, ctx.company_id, list_name) | adding
        projected = today + len(recent)
        what = "names" if list_name == "customers" else "items"
        product = f"QuickBooks {sizes.edition}" if sizes.edition else "this QuickBooks edition"
        said = (f"{projected:,} of the {limit:,} {what} {product} holds ({today:,} today and {len(recent):,} new "
                "ones from the last 30 days of documents)")  # fmt: skip
        if projected > limit:
            problems.append(f"posting.{list_name}: detailed mode would take the list to {said}; set the profile's "
                            f"posting.{list_name} to summary")  # fmt: skip
        elif projected >= WARN_AT * limit:
            warnings.append(f"posting.{list_name}: detailed mode is taking the list to {said}; summary mode keeps "
                            "it from growing")  # fmt: skip
    if problems:
        raise PayloadError(kind, problems)
    return warnings


def _recent_names(conn: Connection, company_id: int, list_name: str) -> set[str]:
    """The distinct names the company's documents of the last 30 days added to a list (case-folded)."""
    since = utcnow() - RECENT
    found: set[str] = set()
    for (names,) in conn.execute(select(D.c.names).where(D.c.company_id == company_id, D.c.posted_at >= since)):
        found.update(n.casefold() for n in (names or {}).get(list_name, ()))
    return found


def documents(conn: Connection, company_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The company's newest documents, with the state of their jobs."""
    rows = conn.execute(select(D).where(D.c.company_id == company_id).order_by(D.c.id.desc()).limit(limit)).all()
    ids = sorted({int(j) for r in rows for j in r.jobs or []})
    states: dict[int, str] = {}
    if ids:
        states = {r.id: str(r.state) for r in conn.execute(select(J.c.id, J.c.state).where(J.c.id.in_(ids)))}
    return [_json(r, states) for r in rows]


def _json(r: Any, states: Mapping[int, str]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for j in r.jobs or []:
        state = states.get(int(j), "unknown")
        counts[state] = counts.get(state, 0) + 1
    return {"id": r.id, "kind": r.kind, "key": r.key, "mode": r.mode, "posted_at": r.posted_at.isoformat(),
            "jobs": list(r.jobs or []), "job_states": counts, "names": r.names, "totals": r.totals}  # fmt: skip
