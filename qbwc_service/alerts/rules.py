"""The alert rules, pure: from what a sweep read of one company to what is wrong with it, in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from qbwc_service.config import Settings
from qbwc_service.db.types import IncidentRule


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rules' settings; ``0`` turns a rule off."""

    #: Not polled for this many poll intervals while jobs wait.
    late_factor: int = 3
    #: Not polled for this many hours, work or not.
    silent_hours: int = 24
    #: The last this many ended sessions all failed (or went quiet).
    failed_sessions: int = 3
    #: This many jobs failed.
    failed_jobs: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        """The thresholds ``QBWC_ALERT_*`` set."""
        return cls(
            settings.alert_late_factor, settings.alert_silent_hours, settings.alert_failed_sessions,
            settings.alert_failed_jobs,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What the rules look at for one company (``facts.alert_facts`` reads them in a few grouped queries)."""

    company_id: int
    name: str
    enabled: bool
    poll_minutes: int
    created_at: datetime
    last_poll_at: datetime | None
    #: Jobs queued (ready or waiting for a back-off or a dependency).
    queued: int = 0
    failed_jobs: int = 0
    #: Of the company's newest ended sessions (at most ``Thresholds.failed_sessions``), how many
    #: there are and how many of them failed or went quiet.
    recent_sessions: int = 0
    recent_failed: int = 0
    #: What ``getLastError`` said in the newest of them.
    last_session_error: str | None = None


def duration(span: timedelta) -> str:
    """``span`` in its largest whole unit: ``47 minutes``, ``3 hours``, ``2 days``."""
    seconds = max(0, int(span.total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _jobs(n: int) -> str:
    return f"{n} job{'s' if n != 1 else ''}"


def conditions(facts: AlertFacts, now: datetime, limits: Thresholds) -> dict[IncidentRule, str]:
    """Each rule ``facts`` breaks, with the summary an incident opening now would carry.

    A disabled company breaks none: it is off on purpose, and its open incidents recover.
    """
    found: dict[IncidentRule, str] = {}
    if not facts.enabled:
        return found
    since = facts.last_poll_at or facts.created_at
    quiet = now - since
    if facts.last_poll_at is not None:
        silent = f"{facts.name} has not polled for {duration(quiet)}"
    else:
        silent = f"{facts.name} has never polled since it was created {duration(quiet)} ago"
    interval = timedelta(minutes=facts.poll_minutes)
    if limits.silent_hours and quiet >= timedelta(hours=limits.silent_hours):
        found[IncidentRule.NOT_POLLING] = silent
    elif limits.late_factor and facts.queued and quiet >= interval * limits.late_factor:
        wait = "waits" if facts.queued == 1 else "wait"
        found[IncidentRule.NOT_POLLING] = (
            f"{silent} (it should every {duration(interval)}) while {_jobs(facts.queued)} {wait}"
        )
    k = limits.failed_sessions
    if k and facts.recent_sessions >= k and facts.recent_failed >= k:
        said = f"; the last one said: {facts.last_session_error}" if facts.last_session_error else ""
        found[IncidentRule.SESSIONS_FAILING] = (
            f"{facts.name}: its last {k} Web Connector session{'s' if k != 1 else ''} failed{said}"
        )
    if limits.failed_jobs and facts.failed_jobs >= limits.failed_jobs:
        found[IncidentRule.JOBS_FAILING] = (
            f"{facts.name} has {_jobs(facts.failed_jobs)} failed (the alert threshold is {limits.failed_jobs})"
        )
    return found


def recovery(rule: IncidentRule, facts: AlertFacts | None) -> str:
    """What a recovery message of ``rule`` says, from the facts that cleared it."""
    if facts is None:
        return "the company connection is gone"
    if not facts.enabled:
        return f"{facts.name} was disabled"
    if rule is IncidentRule.NOT_POLLING:
        return f"{facts.name} polled again"
    if rule is IncidentRule.SESSIONS_FAILING:
        return f"a Web Connector session of {facts.name} finished without failing"
    return f"{facts.name} has {_jobs(facts.failed_jobs)} failed now"
