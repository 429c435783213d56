"""The alert rules, pure: which company facts open which incident, with what words, and what turns a rule off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qbwc_service.alerts.rules import AlertFacts, Thresholds, conditions, duration, recovery
from qbwc_service.db.types import IncidentRule

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = Thresholds(late_factor=3, silent_hours=24, failed_sessions=3, failed_jobs=10)


def facts(**changes: object) -> AlertFacts:
    """acme, polling every 5 minutes, last polled a minute ago, with nothing wrong."""
    base: dict[str, object] = {
        "company_id": 1, "name": "acme", "enabled": True, "poll_minutes": 5, "created_at": NOW - timedelta(days=30),
        "last_poll_at": NOW - timedelta(minutes=1),
    }  # fmt: skip
    return AlertFacts(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {}),
        # Late with work waiting: at 3 intervals, not before.
        ({"last_poll_at": NOW - timedelta(minutes=14), "queued": 2}, {}),
        ({"last_poll_at": NOW - timedelta(minutes=15), "queued": 2},
         {IncidentRule.NOT_POLLING:
          "acme has not polled for 15 minutes (it should every 5 minutes) while 2 jobs wait"}),
        # Late without work: only after the silent hours.
        ({"last_poll_at": NOW - timedelta(hours=23)}, {}),
        ({"last_poll_at": NOW - timedelta(hours=25)}, {IncidentRule.NOT_POLLING: "acme has not polled for 1 day"}),
        # Never polled: counted from the connection's creation.
        ({"last_poll_at": None, "created_at": NOW - timedelta(hours=30)},
         {IncidentRule.NOT_POLLING: "acme has never polled since it was created 1 day ago"}),
        ({"last_poll_at": None, "created_at": NOW - timedelta(minutes=20), "queued": 1},
         {IncidentRule.NOT_POLLING:
          "acme has never polled since it was created 20 minutes ago (it should every 5 minutes) while 1 job waits"}),
        # Sessions: all of the last 3 failed; fewer than 3 ended sessions say nothing yet.
        ({"recent_sessions": 3, "recent_failed": 2}, {}),
        ({"recent_sessions": 2, "recent_failed": 2}, {}),
        ({"recent_sessions": 3, "recent_failed": 3, "last_session_error": "QuickBooks is not running"},
         {IncidentRule.SESSIONS_FAILING:
          "acme: its last 3 Web Connector sessions failed; the last one said: QuickBooks is not running"}),
        ({"failed_jobs": 9}, {}),
        ({"failed_jobs": 10}, {IncidentRule.JOBS_FAILING: "acme has 10 jobs failed (the alert threshold is 10)"}),
        # A disabled connection is off on purpose: nothing opens.
        ({"enabled": False, "failed_jobs": 50, "last_poll_at": None}, {}),
    ],
)  # fmt: skip
def test_conditions(changes: dict[str, object], expected: dict[IncidentRule, str]) -> None:
    """Each rule opens exactly at its threshold, with a sentence naming the company and the numbers."""
    assert conditions(facts(**changes), NOW, LIMITS) == expected


def test_zero_turns_each_rule_off() -> None:
    """With every threshold 0, even the worst facts open nothing."""
    worst = facts(last_poll_at=NOW - timedelta(days=9), queued=5, recent_sessions=3, recent_failed=3, failed_jobs=99)
    assert len(conditions(worst, NOW, LIMITS)) == 3
    assert conditions(worst, NOW, Thresholds(0, 0, 0, 0)) == {}


def test_recovery_says_what_cleared_it() -> None:
    """The recovery message names what changed, a disabled connection and a deleted one included."""
    assert recovery(IncidentRule.NOT_POLLING, facts()) == "acme polled again"
    assert recovery(IncidentRule.JOBS_FAILING, facts(failed_jobs=2)) == "acme has 2 jobs failed now"
    assert recovery(IncidentRule.SESSIONS_FAILING, facts(enabled=False)) == "acme was disabled"
    assert recovery(IncidentRule.SESSIONS_FAILING, None) == "the company connection is gone"


def test_duration_in_its_largest_unit() -> None:
    """Spans read in whole days, hours, minutes or seconds."""
    spans = [timedelta(seconds=5), timedelta(minutes=1), timedelta(minutes=119), timedelta(days=2, hours=5)]
    assert [duration(s) for s in spans] == ["5 seconds", "1 minute", "1 hour", "2 days"]
