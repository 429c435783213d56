"""The rule by which a new authenticate supersedes its company's open session, branch by branch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qbwc_service.qbwc.sessions import RIVAL_MEMORY, Holder, Verdict, judge

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(seconds=60)


def holder(*, seen: float, leased: float | None = None, in_flight: int = 0, refused: float | None = None) -> Holder:
    """An open session whose last answered call, latest lease and last refusal were that many seconds ago."""
    ago = lambda s: None if s is None else NOW - timedelta(seconds=s)  # noqa: E731
    return Holder("t" * 40, NOW - timedelta(seconds=seen), ago(leased), in_flight, ago(refused))


def test_nothing_in_flight_is_superseded_at_once() -> None:
    """A session that holds no job is superseded however recently it called: it has nothing to lose."""
    assert judge(holder(seen=0.01), NOW, supersede_after=MINUTE, rival_seen_at=None) == Verdict(True)


def test_jobs_in_flight_are_superseded_once_quiet_for_the_setting() -> None:
    """With jobs in flight, neither a call nor a lease for supersede_after seconds means the session is over."""
    quiet = holder(seen=300, leased=61, in_flight=3)
    assert judge(quiet, NOW, supersede_after=MINUTE, rival_seen_at=None) == Verdict(True)


def test_a_recent_lease_keeps_the_session_and_says_how_long_to_wait() -> None:
    """A lease 20 s ago (QuickBooks may be working) is not superseded; busy asks QBWC to wait the 40 s left."""
    working = holder(seen=300, leased=20, in_flight=3)
    assert judge(working, NOW, supersede_after=MINUTE, rival_seen_at=None) == Verdict(False, wait=40)


def test_the_default_of_zero_supersedes_a_session_just_leased() -> None:
    """With supersede_after 0 the Web Connector coming straight back after a lost reply takes over at once."""
    just_now = holder(seen=0.05, leased=0.02, in_flight=3)
    assert judge(just_now, NOW, supersede_after=timedelta(0), rival_seen_at=None) == Verdict(True)


def test_a_rival_seen_lately_stops_every_supersede() -> None:
    """Within RIVAL_MEMORY of a second Web Connector, not even a session with nothing in flight is superseded."""
    lately = NOW - RIVAL_MEMORY + timedelta(minutes=1)
    assert judge(holder(seen=300), NOW, supersede_after=timedelta(0), rival_seen_at=lately) == Verdict(False)
    long_ago = NOW - RIVAL_MEMORY - timedelta(minutes=1)
    assert judge(holder(seen=300), NOW, supersede_after=timedelta(0), rival_seen_at=long_ago) == Verdict(True)


def test_a_session_calling_between_two_refused_authenticates_shows_a_rival() -> None:
    """An authenticate refused, the session calling after it, and another authenticate: two Web Connectors."""
    verdict = judge(holder(seen=5, leased=2, in_flight=1, refused=10), NOW, supersede_after=MINUTE, rival_seen_at=None)
    assert not verdict.supersede
    assert verdict.rival is not None and "kept calling" in verdict.rival
    silent = judge(holder(seen=70, leased=65, in_flight=1, refused=10), NOW, supersede_after=MINUTE, rival_seen_at=None)
    assert silent == Verdict(True)
