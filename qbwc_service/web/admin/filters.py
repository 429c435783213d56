"""Jinja filters and globals of the admin pages: times, states, shortened tickets."""

from __future__ import annotations

from datetime import datetime

from qbwc_service.db.models import JobState, SessionState, utcnow

#: What each job state is called on the pages, and what it means for the user.
JOB_STATES: dict[str, tuple[str, str]] = {
    JobState.QUEUED: ("Queued", "waiting for the next Web Connector run"),
    JobState.IN_FLIGHT: ("Sending", "sent to QuickBooks, answer not yet back"),
    JobState.DONE: ("Done", "QuickBooks processed it"),
    JobState.FAILED: ("Failed", "needs a person: read the error, fix, then retry"),
    JobState.CANCELLED: ("Cancelled", "withdrawn; it will not be sent"),
}

SESSION_STATES: dict[str, str] = {
    SessionState.OPEN: "Running",
    SessionState.CLOSED: "Finished",
    SessionState.FAILED: "Failed",
    SessionState.ABANDONED: "Went quiet",
    SessionState.SUPERSEDED: "Taken over",
}


def when(value: datetime | None) -> str:
    """A timestamp as ``2026-11-23 10:04 UTC``; an empty value as a dash."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago ``value`` was, in the largest whole unit (``3 hours ago``)."""
    if value is None:
        return "never"
    seconds = int(((now or utcnow()) - value).total_seconds())
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"  # unreachable: seconds >= 60 matched a unit


def short_ticket(ticket: str | None) -> str:
    """The first eight characters of a session ticket, enough to tell sessions apart."""
    if not ticket:
        return "—"
    return ticket[:8] + "…" if len(ticket) > 8 else ticket


def job_state_label(state: str) -> str:
    """The word shown for a job state."""
    return JOB_STATES.get(state, (str(state), ""))[0]


def job_state_hint(state: str) -> str:
    """What a job state means, in a few words."""
    return JOB_STATES.get(state, ("", ""))[1]


def session_state_label(state: str) -> str:
    """The word shown for a Web Connector session state."""
    return SESSION_STATES.get(state, str(state))


FILTERS = {
    "when": when,
    "ago": ago,
    "short_ticket": short_ticket,
    "job_state": job_state_label,
    "job_state_hint": job_state_hint,
    "session_state": session_state_label,
}
