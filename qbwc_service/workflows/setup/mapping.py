"""The company's resolved mapping: which QuickBooks list entry each profile entry stands for.

Setup records it (:func:`record`, inside the transaction that settles each step); a reset
forgets it. The business documents of later work post against it:

>>> item = mapping.list_id(conn, company_id, mapping.line_kind("labor"))   # the Labor item's ListID
>>> account = mapping.list_id(conn, company_id, mapping.account("undeposited_funds"))

:func:`resolved` gives the whole mapping; :func:`require` raises :class:`NotResolved` with a
sentence when setup has not resolved an entry yet.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select

from qbwc_service.db import prepared
from qbwc_service.db.models import Job, ResolvedEntry, SetupRun, SetupStep, utcnow
from qbwc_service.db.prepared import Executor
from qbwc_service.errors import NotFound

R = ResolvedEntry.metadata.tables["resolved_entry"]
J = Job.metadata.tables["job"]


class NotResolved(NotFound):
    """Setup has not resolved this profile entry for the company yet."""

    def __init__(self, company_id: int, entry: str) -> None:
        self.company_id, self.entry = company_id, entry
        super().__init__(
            f"setup has not resolved {entry!r} for company {company_id}: run setup (qbwc-service setup run) "
            "and wait until its step is done"
        )


@dataclass(frozen=True, slots=True)
class Resolved:
    """One resolved entry: the QuickBooks ListID and FullName."""

    entry: str
    list_id: str | None
    full_name: str | None
    job_id: int | None


def line_kind(key: str) -> str:
    """The mapping key of a line kind (or POS product category)."""
    return f"line_kind:{key}"


def account(role: str) -> str:
    """The mapping key of an account role."""
    return f"account:{role}"


def sales_tax(part: str) -> str:
    """The mapping key of a sales tax entry: ``agency``, ``item``, ``taxable_code``, ``non_taxable_code``."""
    return f"sales_tax:{part}"


@functools.cache
def _company_of_stmt() -> Any:
    """The company of a setup step's job, when its run still counts (no reset set it aside since)."""
    step, run = SetupStep.metadata.tables["setup_step"], SetupRun.metadata.tables["setup_run"]
    return (
        select(J.c.company_id)
        .select_from(J.join(step, step.c.job_id == J.c.id).join(run, run.c.id == step.c.run_id))
        .where(J.c.id == bindparam("p_job"), run.c.reset_id.is_(None))
    )


@functools.cache
def _forget_stmt() -> Any:
    return delete(R).where(R.c.company_id == bindparam("p_company"), R.c.entry == bindparam("p_entry"))


@functools.cache
def _insert_stmt() -> Any:
    return insert(R).values(
        company_id=bindparam("p_company"), entry=bindparam("p_entry"), list_id=bindparam("p_list_id"),
        full_name=bindparam("p_full_name"), job_id=bindparam("p_job"),
        recorded_at=bindparam("p_now", type_=R.c.recorded_at.type),
    )  # fmt: skip


def record(conn: Executor, job_id: int, records: Sequence[Mapping[str, Any]]) -> None:
    """Record what a setup step resolved (``{"entry", "ListID", "FullName"}``), replacing what the entry had.

    A step of a run that a reset set aside while it was in flight records nothing.
    """
    rows = prepared.fetch(conn, _company_of_stmt(), {"p_job": job_id})
    if not rows:
        return
    company_id = rows[0].company_id
    for r in records:
        params = {"p_company": company_id, "p_entry": r["entry"]}
        prepared.execute(conn, _forget_stmt(), params)
        prepared.execute(
            conn, _insert_stmt(),
            {**params, "p_list_id": r.get("ListID"), "p_full_name": r.get("FullName"), "p_job": job_id,
             "p_now": utcnow()},
        )  # fmt: skip


def resolved(conn: Connection, company_id: int) -> dict[str, Resolved]:
    """The company's whole mapping, by entry."""
    rows = conn.execute(select(R).where(R.c.company_id == company_id).order_by(R.c.entry))
    return {r.entry: Resolved(r.entry, r.list_id, r.full_name, r.job_id) for r in rows}


def list_id(conn: Connection, company_id: int, entry: str) -> str | None:
    """The ListID a profile entry resolved to, or None when setup has not resolved it."""
    found = conn.execute(select(R.c.list_id).where(R.c.company_id == company_id, R.c.entry == entry)).scalar()
    return str(found) if found else None


def require(conn: Connection, company_id: int, entry: str) -> Resolved:
    """The resolved entry, or :class:`NotResolved`."""
    row = conn.execute(select(R).where(R.c.company_id == company_id, R.c.entry == entry)).first()
    if row is None or not row.list_id:
        raise NotResolved(company_id, entry)
    return Resolved(row.entry, row.list_id, row.full_name, row.job_id)


def forget(conn: Connection, company_id: int) -> int:
    """Forget the company's whole mapping (a reset); how many entries it had."""
    return int(conn.execute(delete(R).where(R.c.company_id == company_id)).rowcount or 0)
