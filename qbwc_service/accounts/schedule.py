"""Sync schedules: when a company's queued work may go to QuickBooks.

A company syncs at **every poll** (the default: work goes as soon as the Web Connector
calls), **daily** at a time of day in its own time zone, or **manually**. A scheduled
company's work waits in the queue until it is *released*: by the daily time passing, or by
someone asking to sync now. The first authenticate after a release starts a session, and
the release lasts until the queue is found drained (an authenticate with nothing ready, or
a session that closes with nothing ready); the next release is the next day's time.

The rule (:func:`gate`) is pure and decided once per authenticate, never per job: the
hot path (sendRequestXML, receiveResponseXML) does not see schedules at all.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, func, select, update

from qbwc_service.db.models import Company, Job, JobState, SyncMode, utcnow
from qbwc_service.errors import CompanyNotFound, QbwcError

__all__ = [
    "Gate",
    "InvalidSchedule",
    "Schedule",
    "SyncMode",
    "describe",
    "gate",
    "mark_drained",
    "parse_mode",
    "parse_time",
    "parse_zone",
    "read_schedule",
    "scheduled",
    "set_schedule",
    "show",
    "sync_now",
]

_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class InvalidSchedule(QbwcError):
    """A sync schedule is not valid."""


def parse_mode(raw: str) -> SyncMode:
    """``every_poll`` (or ``every-poll``), ``daily`` or ``manual``."""
    try:
        return SyncMode(raw.strip().lower().replace("-", "_"))
    except ValueError:
        raise InvalidSchedule(f"a sync schedule is every_poll, daily or manual, not {raw!r}") from None


def parse_time(raw: str) -> time:
    """A time of day written ``HH:MM`` on a 24-hour clock."""
    found = _TIME_RE.match(raw.strip())
    if found is None:
        raise InvalidSchedule(f"the sync time is HH:MM on a 24-hour clock (e.g. 22:00), not {raw!r}")
    return time(int(found[1]), int(found[2]))


def parse_zone(raw: str) -> ZoneInfo:
    """An IANA time zone, e.g. ``America/Chicago``."""
    name = raw.strip()
    try:
        if not name or len(name) > 64:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(
            f"{raw!r} is not a time zone: give an IANA name such as America/Chicago, Europe/London or UTC"
        ) from None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A company's sync schedule and where its releases stand."""

    mode: SyncMode = SyncMode.EVERY_POLL
    at: time | None = None
    time_zone: str | None = None
    requested_at: datetime | None = None
    drained_at: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the daily time is read in."""
        return ZoneInfo(self.time_zone or "UTC")

    def last_time(self, now: datetime) -> datetime | None:
        """The latest daily time at or before ``now`` (UTC), or None when not daily."""
        if self.mode is not SyncMode.DAILY or self.at is None:
            return None
        day = now.astimezone(self.zone).date()
        for back in range(3):
            found = self._on(day - timedelta(days=back))
            if found <= now:
                return found
        return None  # pragma: no cover - one of three days always qualifies

    def next_time(self, now: datetime) -> datetime | None:
        """The first daily time after ``now`` (UTC), or None when not daily."""
        if self.mode is not SyncMode.DAILY or self.at is None:
            return None
        day = now.astimezone(self.zone).date()
        for ahead in range(3):
            found = self._on(day + timedelta(days=ahead))
            if found > now:
                return found
        return None  # pragma: no cover

    def _on(self, day: Any) -> datetime:
        """The daily time on local ``day``, in UTC.

        A time the clocks skip (spring forward) is read with the offset before the change,
        so 02:30 on such a day is 03:30 after it; a time that happens twice (fall back) is
        its first occurrence.
        """
        assert self.at is not None
        return datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)

    def released_at(self, now: datetime) -> datetime | None:
        """When the work waiting now was released, or None when it still waits."""
        if self.mode is SyncMode.EVERY_POLL:
            return now
        releases = [r for r in (self.requested_at, self.last_time(now)) if r is not None and r <= now]
        latest = max(releases, default=None)
        if latest is None or (self.drained_at is not None and latest <= self.drained_at):
            return None
        return latest


@dataclass(frozen=True, slots=True)
class Gate:
    """What authenticate does about a company's schedule."""

    #: Its work may go now.
    open: bool
    #: The release to close when nothing is ready (scheduled companies only).
    closes: bool = False
    #: Seconds the Web Connector is asked to come back after (authenticate's 3rd element).
    postpone: int | None = None


def gate(schedule: Schedule, now: datetime, *, poll_seconds: int, manual_recheck: int) -> Gate:
    """Whether the company's work may go at this authenticate, and if not when to come back.

    A daily time that comes within one poll interval is waited for exactly: the Web
    Connector is asked to come back then (``postpone``), not at its next poll. A manual
    company, whose work waits for a sync now, is asked back after ``manual_recheck``
    seconds (``0``: at its own schedule). Otherwise the Web Connector keeps its schedule.
    """
    if schedule.mode is SyncMode.EVERY_POLL:
        return Gate(open=True)
    if schedule.released_at(now) is not None:
        return Gate(open=True, closes=True)
    if schedule.mode is SyncMode.MANUAL:
        return Gate(open=False, postpone=manual_recheck or None)
    upcoming = schedule.next_time(now)
    assert upcoming is not None
    wait = math.ceil((upcoming - now).total_seconds())
    return Gate(open=False, postpone=max(1, wait) if wait <= poll_seconds else None)


# -- the company's schedule in the database ----------------------------------------------------


def read_schedule(row: Any) -> Schedule:
    """The schedule of a company row (ORM or Core) that has the ``sync_*`` columns."""
    return Schedule(
        mode=SyncMode(row.sync_mode),
        at=row.sync_at,
        time_zone=row.sync_time_zone,
        requested_at=row.sync_requested_at,
        drained_at=row.sync_drained_at,
    )


def set_schedule(
    conn: Connection, name: str, mode: SyncMode, *, at: str | None = None, time_zone: str | None = None
) -> Schedule:
    """Give the company a schedule; ``at`` and ``time_zone`` are needed for daily (and refused otherwise).

    A new schedule starts afresh: work queued now waits for the next daily time (or a sync
    now), not for one that passed before the schedule was set.
    """
    if mode is SyncMode.DAILY:
        if not at or not time_zone:
            raise InvalidSchedule("a daily schedule needs a time (HH:MM) and a time zone (e.g. America/Chicago)")
        values: dict[str, Any] = {"sync_at": parse_time(at), "sync_time_zone": parse_zone(time_zone).key}
    else:
        if at or time_zone:
            raise InvalidSchedule(f"a time and a time zone are given only with a daily schedule, not {mode.value}")
        values = {"sync_at": None, "sync_time_zone": None}
    now = utcnow()
    row = conn.execute(
        update(Company)
        .where(Company.name == name)
        .values(sync_mode=mode, sync_drained_at=now, **values)
        .returning(Company.sync_mode, Company.sync_at, Company.sync_time_zone, Company.sync_requested_at,
                   Company.sync_drained_at)
    ).first()  # fmt: skip
    if row is None:
        raise CompanyNotFound(name)
    return read_schedule(row)


def sync_now(conn: Connection, name: str) -> Schedule:
    """Release the company's waiting work: it goes at the Web Connector's next poll."""
    row = conn.execute(
        update(Company)
        .where(Company.name == name)
        .values(sync_requested_at=utcnow())
        .returning(Company.sync_mode, Company.sync_at, Company.sync_time_zone, Company.sync_requested_at,
                   Company.sync_drained_at)
    ).first()  # fmt: skip
    if row is None:
        raise CompanyNotFound(name)
    return read_schedule(row)


def mark_drained(conn: Any, company_id: int, now: datetime) -> None:
    """The released work is drained: a scheduled company's work waits for its next release."""
    conn.execute(
        update(Company)
        .where(Company.id == company_id, Company.sync_mode != SyncMode.EVERY_POLL)
        .values(sync_drained_at=now)
    )


def scheduled(conn: Any, company_id: int) -> bool:
    """Whether the company has a schedule other than every poll."""
    mode = conn.execute(select(Company.sync_mode).where(Company.id == company_id)).scalar_one_or_none()
    return mode is not None and SyncMode(mode) is not SyncMode.EVERY_POLL


def describe(schedule: Schedule, now: datetime, *, waiting: int) -> dict[str, Any]:
    """The schedule as the API, the CLI and the company page show it.

    ``next_sync_at`` (UTC) and ``next_sync_local`` (the company's zone) are the next daily
    time when the work waits for it; ``released`` says the waiting work goes at the next
    poll (a sync now, or a daily time that passed); ``waiting`` counts the queued jobs.
    """
    released = schedule.mode is not SyncMode.EVERY_POLL and schedule.released_at(now) is not None
    upcoming = None if released else schedule.next_time(now)
    if schedule.mode is SyncMode.EVERY_POLL:
        summary = "at every poll of the Web Connector"
    elif schedule.mode is SyncMode.DAILY:
        summary = f"daily at {schedule.at:%H:%M} ({schedule.time_zone})"
    else:
        summary = "manually: only when someone asks to sync now"
    return {
        "mode": schedule.mode.value,
        "at": f"{schedule.at:%H:%M}" if schedule.at else None,
        "time_zone": schedule.time_zone,
        "summary": summary,
        "released": released,
        "next_sync_at": upcoming.isoformat() if upcoming else None,
        "next_sync_local": upcoming.astimezone(schedule.zone).isoformat() if upcoming else None,
        "requested_at": schedule.requested_at.isoformat() if schedule.requested_at else None,
        "waiting": waiting,
    }


def show(conn: Connection, name: str, now: datetime | None = None) -> dict[str, Any]:
    """The named company's schedule as :func:`describe` gives it, with its queued jobs counted."""
    row = conn.execute(
        select(Company.id, Company.sync_mode, Company.sync_at, Company.sync_time_zone, Company.sync_requested_at,
               Company.sync_drained_at).where(Company.name == name)
    ).first()  # fmt: skip
    if row is None:
        raise CompanyNotFound(name)
    queued = conn.execute(
        select(func.count()).select_from(Job).where(Job.company_id == row.id, Job.state == JobState.QUEUED)
    ).scalar_one()
    return describe(read_schedule(row), now or utcnow(), waiting=int(queued))
