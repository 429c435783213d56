"""Incident rows: opened and closed from the rules' verdicts, with their history and messages to send."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select, update

from qbwc_service.alerts.rules import AlertFacts, recovery
from qbwc_service.db.models import Channel, Company, Incident, IncidentDelivery, IncidentEvent, IncidentRule, Notice

#: What an incident's rule is called on the pages and in messages.
RULE_TITLES: dict[IncidentRule, str] = {
    IncidentRule.NOT_POLLING: "Not polling",
    IncidentRule.SESSIONS_FAILING: "Sessions failing",
    IncidentRule.JOBS_FAILING: "Jobs failing",
}


@dataclass(frozen=True, slots=True)
class Change:
    """An incident a sweep opened or closed."""

    incident_id: int
    company: str
    rule: IncidentRule
    notice: Notice
    text: str


def reconcile(
    conn: Connection,
    facts: Sequence[AlertFacts],
    verdicts: dict[int, dict[IncidentRule, str]],
    channels: Iterable[Channel],
    now: datetime,
) -> list[Change]:
    """Open an incident for each verdict without one, close each open one whose verdict is gone.

    Each change gets a line in its history and a pending message per channel in ``channels``.
    """
    channels = tuple(channels)
    by_id = {f.company_id: f for f in facts}
    open_query = select(Incident.id, Incident.company_id, Incident.rule).where(Incident.closed_at.is_(None))
    open_now = {(r.company_id, IncidentRule(r.rule)): r.id for r in conn.execute(open_query)}
    changes: list[Change] = []
    for company_id, found in verdicts.items():
        for rule, summary in found.items():
            if (company_id, rule) in open_now:
                continue
            incident_id = conn.execute(
                insert(Incident)
                .values(company_id=company_id, rule=rule, opened_at=now, summary=summary)
                .returning(Incident.id)
            ).scalar_one()
            changes.append(Change(incident_id, by_id[company_id].name, rule, Notice.OPENED, summary))
    for (company_id, rule), incident_id in open_now.items():
        if rule in verdicts.get(company_id, {}):
            continue
        company = by_id.get(company_id)
        text = recovery(rule, company)
        conn.execute(update(Incident).where(Incident.id == incident_id).values(closed_at=now, recovery=text))
        changes.append(Change(incident_id, company.name if company else "?", rule, Notice.RECOVERED, text))
    if changes:
        conn.execute(
            insert(IncidentEvent),
            [{"incident_id": c.incident_id, "at": now, "message": f"{c.notice.value.capitalize()}: {c.text}",
              "channel": None, "error": False} for c in changes],
        )  # fmt: skip
        if channels:
            conn.execute(
                insert(IncidentDelivery),
                [{"incident_id": c.incident_id, "notice": c.notice, "channel": ch, "attempts": 0, "created_at": now}
                 for c in changes for ch in channels],
            )  # fmt: skip
    return changes


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """An incident as the pages and messages show it."""

    id: int
    company_id: int
    company: str
    rule: IncidentRule
    opened_at: datetime
    closed_at: datetime | None
    summary: str
    recovery: str | None

    @property
    def title(self) -> str:
        """The rule in words."""
        return RULE_TITLES[self.rule]


def _select() -> Select[int, int, str, IncidentRule, datetime, datetime | None, str, str | None]:
    return select(
        Incident.id, Incident.company_id, Company.name.label("company"), Incident.rule, Incident.opened_at,
        Incident.closed_at, Incident.summary, Incident.recovery,
    ).join(Company, Company.id == Incident.company_id)  # fmt: skip


def _row(r: Any) -> IncidentRow:
    return IncidentRow(r.id, r.company_id, r.company, IncidentRule(r.rule), r.opened_at, r.closed_at, r.summary,
                       r.recovery)  # fmt: skip


def open_incidents(conn: Connection, limit: int = 5) -> tuple[int, list[IncidentRow]]:
    """How many incidents are open, and the newest ``limit`` of them (the banner of every admin page)."""
    count = conn.execute(select(func.count()).select_from(Incident).where(Incident.closed_at.is_(None))).scalar_one()
    if not count:
        return 0, []
    rows = conn.execute(_select().where(Incident.closed_at.is_(None)).order_by(Incident.id.desc()).limit(limit))
    return count, [_row(r) for r in rows]


def recent(conn: Connection, limit: int = 100) -> list[IncidentRow]:
    """Every open incident, then the newest closed ones, ``limit`` in all."""
    rows = conn.execute(_select().order_by(Incident.closed_at.is_(None).desc(), Incident.id.desc()).limit(limit))
    return [_row(r) for r in rows]


def get(conn: Connection, incident_id: int) -> IncidentRow | None:
    """One incident, or None."""
    row = conn.execute(_select().where(Incident.id == incident_id)).first()
    return _row(row) if row else None


def history(conn: Connection, incident_id: int) -> list[Any]:
    """The incident's history, oldest first: ``at``, ``message``, ``channel``, ``error``."""
    return list(
        conn.execute(
            select(IncidentEvent.at, IncidentEvent.message, IncidentEvent.channel, IncidentEvent.error)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.id)
        )
    )


def deliveries(conn: Connection, incident_id: int) -> list[Any]:
    """Its messages: ``notice``, ``channel``, ``state``, ``attempts``, ``sent_at``, ``last_error``."""
    return list(
        conn.execute(
            select(
                IncidentDelivery.notice,
                IncidentDelivery.channel,
                IncidentDelivery.state,
                IncidentDelivery.attempts,
                IncidentDelivery.sent_at,
                IncidentDelivery.last_error,
            )
            .where(IncidentDelivery.incident_id == incident_id)
            .order_by(IncidentDelivery.id)
        )
    )
