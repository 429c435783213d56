"""The sync schedule's rule, pure: when work is released, when the next time is, what QBWC is told."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from qbwc_service.accounts.schedule import (
    InvalidSchedule,
    Schedule,
    SyncMode,
    describe,
    gate,
    parse_mode,
    parse_time,
    parse_zone,
)

CHICAGO = "America/Chicago"
POLL = 300


def daily(at: str = "22:00", zone: str = CHICAGO, **kw: datetime) -> Schedule:
    """A daily schedule at ``at`` in ``zone``, drained when the schedule was set (``drained_at``)."""
    return Schedule(SyncMode.DAILY, parse_time(at), zone, **kw)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_every_poll_is_always_open_and_never_closes() -> None:
    """The default schedule lets work go at every authenticate and has nothing to drain."""
    found = gate(Schedule(), utc(2026, 1, 5, 3, 0), poll_seconds=POLL, manual_recheck=60)
    assert (found.open, found.closes, found.postpone) == (True, False, None)


def test_daily_waits_before_its_time_and_opens_at_it() -> None:
    """22:00 in Chicago (04:00 UTC in winter): closed a second before, open at the second and after."""
    sched = daily(drained_at=utc(2026, 1, 5, 12, 0))
    assert not gate(sched, utc(2026, 1, 6, 3, 59, 59), poll_seconds=POLL, manual_recheck=60).open
    at_time = gate(sched, utc(2026, 1, 6, 4, 0), poll_seconds=POLL, manual_recheck=60)
    assert at_time.open and at_time.closes
    assert gate(sched, utc(2026, 1, 6, 9, 0), poll_seconds=POLL, manual_recheck=60).open


def test_a_time_within_one_poll_is_waited_for_exactly() -> None:
    """Four minutes before the time QBWC is asked back in 240 s; an hour before it keeps its schedule."""
    sched = daily(drained_at=utc(2026, 1, 5, 12, 0))
    near = gate(sched, utc(2026, 1, 6, 3, 56), poll_seconds=POLL, manual_recheck=60)
    assert (near.open, near.postpone) == (False, 240)
    just = gate(sched, utc(2026, 1, 6, 3, 59, 59, 500_000), poll_seconds=POLL, manual_recheck=60)
    assert just.postpone == 1  # rounded up: it never comes back before the time
    far = gate(sched, utc(2026, 1, 6, 3, 0), poll_seconds=POLL, manual_recheck=60)
    assert (far.open, far.postpone) == (False, None)


def test_a_drained_release_waits_for_the_next_day() -> None:
    """Once the queue was drained after tonight's time, work waits for tomorrow's."""
    sched = daily(drained_at=utc(2026, 1, 6, 4, 10))
    assert not gate(sched, utc(2026, 1, 6, 5, 0), poll_seconds=POLL, manual_recheck=60).open
    assert sched.next_time(utc(2026, 1, 6, 5, 0)) == utc(2026, 1, 7, 4, 0)
    assert gate(sched, utc(2026, 1, 7, 4, 0, 1), poll_seconds=POLL, manual_recheck=60).open


def test_a_schedule_set_after_todays_time_waits_for_tomorrow() -> None:
    """Setting the schedule drains it: a time that passed before it was set releases nothing."""
    sched = daily(drained_at=utc(2026, 1, 6, 4, 30))  # set at 22:30 Chicago
    assert sched.released_at(utc(2026, 1, 6, 4, 31)) is None


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        (datetime(2026, 3, 7, 12, tzinfo=UTC), utc(2026, 3, 8, 4, 0)),  # Saturday 22:00 CST (UTC-6)
        (datetime(2026, 3, 8, 12, tzinfo=UTC), utc(2026, 3, 9, 3, 0)),  # Sunday 22:00 CDT (UTC-5): 23 hours later
        (datetime(2026, 10, 31, 12, tzinfo=UTC), utc(2026, 11, 1, 3, 0)),  # Saturday 22:00 CDT
        (datetime(2026, 11, 1, 12, tzinfo=UTC), utc(2026, 11, 2, 4, 0)),  # Sunday 22:00 CST: 25 hours later
    ],
)
def test_daily_time_follows_the_companys_clock_across_dst(day: datetime, expected_utc: datetime) -> None:
    """22:00 stays 22:00 on the company's clock when Chicago changes to and from daylight time."""
    sched = daily()
    found = sched.next_time(day)
    assert found == expected_utc
    assert found is not None and found.astimezone(sched.zone).time() == time(22, 0)


def test_a_skipped_and_a_repeated_time_on_dst_days() -> None:
    """02:30 does not exist on 8 March in Chicago: it is read as 03:30 CDT; 01:30 on 1 November is the first one."""
    skipped = daily("02:30").next_time(utc(2026, 3, 8, 7, 0))
    assert skipped == utc(2026, 3, 8, 8, 30)
    assert skipped.astimezone(parse_zone(CHICAGO)).strftime("%H:%M %Z") == "03:30 CDT"
    repeated = daily("01:30").next_time(utc(2026, 11, 1, 5, 0))
    assert repeated == utc(2026, 11, 1, 6, 30)  # 01:30 CDT, an hour before 01:30 CST


def test_manual_waits_for_sync_now_and_asks_qbwc_back_soon() -> None:
    """Manual work waits (QBWC asked back after the recheck) until a sync now releases it."""
    now = utc(2026, 1, 6, 12, 0)
    sched = Schedule(SyncMode.MANUAL, drained_at=now - timedelta(days=1))
    waiting = gate(sched, now, poll_seconds=POLL, manual_recheck=60)
    assert (waiting.open, waiting.postpone) == (False, 60)
    assert gate(sched, now, poll_seconds=POLL, manual_recheck=0).postpone is None
    pressed = Schedule(SyncMode.MANUAL, requested_at=now - timedelta(seconds=5), drained_at=now - timedelta(days=1))
    assert gate(pressed, now, poll_seconds=POLL, manual_recheck=60).open


def test_sync_now_releases_a_daily_company_before_its_time() -> None:
    """A sync now opens a daily company at once; once drained, it waits for its time again."""
    now = utc(2026, 1, 6, 12, 0)
    pressed = daily(requested_at=now - timedelta(seconds=1), drained_at=now - timedelta(hours=2))
    assert gate(pressed, now, poll_seconds=POLL, manual_recheck=60).open
    served = daily(requested_at=now - timedelta(seconds=1), drained_at=now)
    assert not gate(served, now + timedelta(minutes=1), poll_seconds=POLL, manual_recheck=60).open


def test_describe_says_when_and_what_waits() -> None:
    """The description names the next time in the company's zone and UTC, and counts the waiting jobs."""
    shown = describe(daily(drained_at=utc(2026, 1, 6, 0, 0)), utc(2026, 1, 6, 1, 0), waiting=7)
    assert shown["next_sync_at"] == "2026-01-06T04:00:00+00:00"
    assert shown["next_sync_local"] == "2026-01-05T22:00:00-06:00"
    assert (shown["mode"], shown["at"], shown["time_zone"], shown["released"], shown["waiting"]) == (
        "daily", "22:00", CHICAGO, False, 7,
    )  # fmt: skip
    assert describe(Schedule(), utc(2026, 1, 6), waiting=0)["summary"] == "at every poll of the Web Connector"


@pytest.mark.parametrize("raw", ["25:00", "22:60", "2200", "10pm", "", "22:00:00", "-1:00"])
def test_a_bad_time_is_refused_with_one_sentence(raw: str) -> None:
    """Anything but HH:MM on a 24-hour clock is refused, naming what was given and the form expected."""
    with pytest.raises(InvalidSchedule) as caught:
        parse_time(raw)
    assert str(caught.value) == f"the sync time is HH:MM on a 24-hour clock (e.g. 22:00), not {raw!r}"


@pytest.mark.parametrize("raw", ["America/Chicgo", "Mars/Olympus", "", "../../etc/passwd", "/etc/localtime", "x" * 65])
def test_a_bad_time_zone_is_refused_with_one_sentence(raw: str) -> None:
    """A name that is not an IANA time zone is refused with an example of one."""
    with pytest.raises(InvalidSchedule) as caught:
        parse_zone(raw)
    assert str(caught.value).startswith(f"{raw!r} is not a time zone: give an IANA name such as America/Chicago")


def test_modes_are_read_with_dashes_or_underscores() -> None:
    """``every-poll`` and ``every_poll`` are one mode; an unknown one is refused."""
    assert parse_mode("Every-Poll") is SyncMode.EVERY_POLL
    assert parse_time("9:05") == time(9, 5)
    with pytest.raises(InvalidSchedule, match="every_poll, daily or manual"):
        parse_mode("hourly")
