"""Records as the service keeps them: a ``…Ret`` as JSON, and the sink that writes pages to ``qb_record``."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lxml import etree
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement

from qbwc_service.db import prepared
from qbwc_service.db.models import Job, QbRecord, utcnow
from qbwc_service.workflows.imports.lists import ImportList, key_fields

if TYPE_CHECKING:
    from qbwc_service.db.prepared import Executor

R = QbRecord.metadata.tables["qb_record"]


def ret_json(ret: etree._Element) -> dict[str, Any]:
    """A ``…Ret`` element as JSON: leaves as text, aggregates as objects, repeated elements as lists.

    ``type`` is QuickBooks' type of the entry (``Customer``, ``ItemInventory``).
    """
    tag = str(ret.tag)
    out = _element(ret)
    data = out if isinstance(out, dict) else {}
    return {"type": tag[:-3] if tag.endswith("Ret") else tag, **data}


def _element(element: etree._Element) -> Any:
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        return element.text or ""
    out: dict[str, Any] = {}
    for child in children:
        tag = str(child.tag)
        value = _element(child)
        if tag in out:
            before = out[tag]
            out[tag] = [*before, value] if isinstance(before, list) else [before, value]
        else:
            out[tag] = value
    return out


def parse_time(text: Any) -> datetime | None:
    """QuickBooks' TimeModified (with its zone offset) as aware UTC; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def newer(a: str | None, b: str | None) -> str | None:
    """The later of two TimeModified texts (compared as times, whatever their offsets)."""
    ta, tb = parse_time(a), parse_time(b)
    if ta is None:
        return b if tb is not None else None
    if tb is None or ta >= tb:
        return a
    return b


def row_of(entry: ImportList, company_id: int, record: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """The ``qb_record`` values of one imported record; None for a record without a ListID."""
    list_id = record.get("ListID")
    if not isinstance(list_id, str) or not list_id:
        return None
    name = record.get("FullName") or record.get("Name") or ""
    full_name = str(name)[:255]
    return {
        "company_id": company_id,
        "list": entry.name,
        "list_id": list_id,
        "edit_sequence": str(record.get("EditSequence") or "") or None,
        "full_name": full_name,
        "name_key": full_name.casefold(),
        "record_type": str(record.get("type") or entry.name)[:48],
        "active": record.get("IsActive", "true") != "false",
        "fields": key_fields(entry, record),
        "data": dict(record),
        "time_modified": parse_time(record.get("TimeModified")),
        "first_seen_at": now,
        "last_seen_at": now,
    }


_COMPANY_OF = select(Job.company_id).where(Job.id == bindparam("job_id"))
#: A record with a new ListID takes over a local entry of its name that has no ListID yet (the oldest).
_ADOPT = (
    R.update()
    .where(
        R.c.id
        == select(func.min(R.c.id))
        .where(
            R.c.company_id == bindparam("company_id"),
            R.c.list == bindparam("list"),
            R.c.name_key == bindparam("name_key"),
            R.c.list_id.is_(None),
        )
        .scalar_subquery()
    )
    .values(list_id=bindparam("list_id"))
)
_INSERTED = ("company_id", "list", "list_id", "edit_sequence", "full_name", "name_key", "record_type", "active",
             "fields", "data", "time_modified", "first_seen_at", "last_seen_at")  # fmt: skip
_UPDATED = ("edit_sequence", "full_name", "name_key", "record_type", "active", "fields", "data", "time_modified",
            "last_seen_at")  # fmt: skip


@functools.cache
def _upsert(dialect_name: str) -> ClauseElement:
    """INSERT … ON CONFLICT (company, list, ListID) DO UPDATE: first_seen_at stays, the rest is the new page's."""
    maker = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    stmt = maker(R).values({name: bindparam(name) for name in _INSERTED})
    return stmt.on_conflict_do_update(
        index_elements=[R.c.company_id, R.c.list, R.c.list_id],
        set_={name: stmt.excluded[name] for name in _UPDATED},
    )


_ANY_UNLINKED = (
    select(R.c.id)
    .where(R.c.company_id == bindparam("company_id"), R.c.list == bindparam("list"), R.c.list_id.is_(None))
    .limit(1)
)


def _unlinked_names(conn: Executor, company_id: int, entry: ImportList) -> bool:
    """Whether the list holds a local entry without a ListID (only then can a page adopt one)."""
    return bool(prepared.fetch(conn, _ANY_UNLINKED, {"company_id": company_id, "list": entry.name}))


class TableSink:
    """An import's pages, written to ``qb_record`` page by page; ``progress`` keeps only counts.

    ``keep`` counts the rows and the newest TimeModified (what the next incremental import
    starts from); ``store`` upserts the page by ListID (a new ListID first takes over a local
    entry of its name without one); ``result`` says how many came and the newest time.
    """

    def __init__(self, entry: ImportList) -> None:
        self.entry = entry

    def keep(self, kept: Mapping[str, Any] | None, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The count and the newest TimeModified so far, with this page's."""
        before = dict(kept or {})
        newest = before.get("newest")
        for record in records:
            modified = record.get("TimeModified")
            if isinstance(modified, str):
                newest = newer(newest, modified)
        return {"rows": int(before.get("rows", 0)) + len(records), "newest": newest}

    def store(self, conn: Executor, job_id: int, records: Sequence[Mapping[str, Any]]) -> None:
        """Upsert one page's records of the job's company."""
        found = prepared.fetch(conn, _COMPANY_OF, {"job_id": job_id})
        if not found:
            return
        company_id = int(found[0].company_id)
        now = utcnow()
        rows = [r for r in (row_of(self.entry, company_id, rec, now) for rec in records) if r is not None]
        if not rows:
            return
        if _unlinked_names(conn, company_id, self.entry):
            prepared.execute_many(conn, _ADOPT, rows)
        prepared.execute_many(conn, _upsert(conn.dialect.name), rows)

    def result(self, kept: Mapping[str, Any] | None) -> dict[str, Any]:
        """What the import recorded: the list, how many records came, the newest TimeModified."""
        rows = int((kept or {}).get("rows", 0))
        return {"list": self.entry.name, "count": rows, "newest": (kept or {}).get("newest")}
