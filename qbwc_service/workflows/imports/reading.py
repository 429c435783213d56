"""Reading the imported records: filtered, keyset-paged lists; names for forms; name conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from qbwc_service.db.models import QbRecord
from qbwc_service.workflows.imports.lists import get_list
from qbwc_service.workflows.imports.runs import last_full_at

#: Most records one page returns.
MAX_PAGE = 1000
DEFAULT_PAGE = 100


@dataclass(frozen=True, slots=True)
class Page:
    """One page of records and the cursor of the next (None: the last page)."""

    records: list[dict[str, Any]]
    next_after: int | None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def record_json(row: Any, missing_since: datetime | None) -> dict[str, Any]:
    """One record as the API shows it."""
    not_seen = missing_since is not None and row.last_seen_at < missing_since
    return {
        "id": row.id,
        "list_id": row.list_id,
        "edit_sequence": row.edit_sequence,
        "full_name": row.full_name,
        "type": row.record_type,
        "active": row.active,
        "fields": row.fields,
        "time_modified": row.time_modified.isoformat() if row.time_modified else None,
        "first_seen_at": row.first_seen_at.isoformat(),
        "last_seen_at": row.last_seen_at.isoformat(),
        #: False: the newest full import did not find it in QuickBooks (kept, never deleted).
        "seen_in_last_full_import": not not_seen,
        "data": row.data,
    }


def records(
    conn: Connection,
    company_id: int,
    list_name: str,
    *,
    q: str | None = None,
    modified_since: datetime | None = None,
    active: bool | None = None,
    after: int | None = None,
    limit: int = DEFAULT_PAGE,
) -> Page:
    """A page of the list's records in the order they were first imported, after the record ``after``.

    ``q`` finds names containing it (any case); ``modified_since`` keeps records QuickBooks
    changed at or after that time; ``active`` keeps active or inactive ones.
    """
    entry = get_list(list_name)
    size = max(1, min(limit, MAX_PAGE))
    stmt = select(QbRecord).where(QbRecord.company_id == company_id, QbRecord.list == entry.name)
    if q:
        stmt = stmt.where(QbRecord.name_key.like(f"%{_escape_like(q.casefold())}%", escape="\\"))
    if modified_since is not None:
        stmt = stmt.where(QbRecord.time_modified >= modified_since)
    if active is not None:
        stmt = stmt.where(QbRecord.active.is_(active))
    if after is not None:
        stmt = stmt.where(QbRecord.id > after)
    rows = list(conn.execute(stmt.order_by(QbRecord.id).limit(size + 1)))
    missing_since = last_full_at(conn, company_id, entry.name)
    more = len(rows) > size
    shown = rows[:size]
    return Page([record_json(r, missing_since) for r in shown], shown[-1].id if more and shown else None)


def names(conn: Connection, company_id: int, list_name: str, *, active_only: bool = True) -> list[str]:
    """The FullNames of a list for a company, in name order: what forms offer (company setup's profile)."""
    entry = get_list(list_name)
    stmt = select(QbRecord.full_name).where(QbRecord.company_id == company_id, QbRecord.list == entry.name)
    if active_only:
        stmt = stmt.where(QbRecord.active.is_(True))
    return [r.full_name for r in conn.execute(stmt.order_by(QbRecord.name_key))]


@dataclass(frozen=True, slots=True)
class NameConflict:
    """Two or more local records of one list claiming one name: reported, never merged."""

    list: str
    full_name: str
    record_ids: tuple[int, ...]
    list_ids: tuple[str | None, ...]

    def to_json(self) -> dict[str, Any]:
        """The conflict as the API shows it."""
        return {"list": self.list, "full_name": self.full_name, "record_ids": list(self.record_ids),
                "list_ids": list(self.list_ids)}  # fmt: skip


def name_conflicts(conn: Connection, company_id: int, list_name: str | None = None) -> list[NameConflict]:
    """Every name held by more than one record of a list (a name reused in QuickBooks after a rename, ...)."""
    stmt = (
        select(QbRecord.list, QbRecord.name_key)
        .where(QbRecord.company_id == company_id)
        .group_by(QbRecord.list, QbRecord.name_key)
        .having(func.count() > 1)
    )
    if list_name is not None:
        stmt = stmt.where(QbRecord.list == get_list(list_name).name)
    out = []
    for group in conn.execute(stmt.order_by(QbRecord.list, QbRecord.name_key)).all():
        rows = conn.execute(
            select(QbRecord.id, QbRecord.full_name, QbRecord.list_id)
            .where(QbRecord.company_id == company_id, QbRecord.list == group.list, QbRecord.name_key == group.name_key)
            .order_by(QbRecord.id)
        ).all()
        ids, list_ids = tuple(r.id for r in rows), tuple(r.list_id for r in rows)
        out.append(NameConflict(group.list, rows[0].full_name, ids, list_ids))
    return out
