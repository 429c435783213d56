"""Sync schedules end to end: the simulated Web Connector polls the service over HTTP under a frozen clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from sqlalchemy import Engine

from qbwc_service.accounts import companies, schedule
from qbwc_service.db.models import SyncMode
from qbwc_service.queue import jobs
from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.simulator.webconnector import Outcome, SessionReport, WebConnector
from tests.conftest import LiveServer, make_test_app
from tests.emulator.conftest import needs_spec

pytestmark = needs_spec

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def service(sqlite_url: str) -> Iterator[tuple[Engine, str, companies.NewCompany]]:
    """The service over HTTP with company acme (polled every 5 minutes)."""
    app: Flask = make_test_app(sqlite_url)
    engine: Engine = app.extensions["qbwc"].engine
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc", poll_minutes=5)
    with LiveServer(app) as server:
        yield engine, server.url + "/qbwc", company
    engine.dispose()


def local(*args: int) -> datetime:
    """A wall-clock time in Chicago."""
    return datetime(*args, tzinfo=CHICAGO)


def enqueue(engine: Engine, *names: str) -> None:
    with engine.begin() as conn:
        for name in names:
            jobs.enqueue(conn, "acme", "customer_add", {"name": name})


@dataclass
class Polls:
    """A Web Connector polling every ``every`` seconds, its clock moved instead of slept."""

    connector: WebConnector
    clock: time_machine.Coordinates
    every: float
    #: What to do when the clock reaches a time (once each), e.g. queue more work.
    at: dict[datetime, Callable[[], None]] = field(default_factory=dict)
    runs: list[tuple[datetime, SessionReport]] = field(default_factory=list)

    def until(self, end: datetime) -> list[tuple[datetime, SessionReport]]:
        """Poll until the clock passes ``end``, honouring authenticate's postpone as QBWC does."""
        while (now := datetime.now(UTC)) < end:
            for when in sorted(w for w in self.at if w <= now):
                self.at.pop(when)()
            report = self.connector.run_session()
            self.runs.append((now, report))
            self.clock.shift(report.postpone if report.postpone is not None else self.every)
        return self.runs

    def working(self) -> list[tuple[datetime, SessionReport]]:
        """The runs that sent QuickBooks anything."""
        return [(t, r) for t, r in self.runs if "sendRequestXML" in r.calls]


def polls(service: tuple[Engine, str, companies.NewCompany], clock: time_machine.Coordinates, every: float) -> Polls:
    _, url, company = service
    qb = QuickBooksEmulator(CompanyFacts())
    return Polls(WebConnector(url, company.username, company.token, qb), clock, every)


def names_in(p: Polls) -> list[str]:
    return sorted(r["Name"] for r in p.connector.quickbooks.records("Customer"))


def test_daily_sends_nothing_before_its_time_and_everything_within_one_poll_after(
    service: tuple[Engine, str, companies.NewCompany],
) -> None:
    """Daily 22:00: polls from 21:31 send nothing; the one asked back for 22:00 sends all 30 jobs in one run."""
    engine, _, _ = service
    with time_machine.travel(local(2026, 1, 5, 21, 31), tick=False) as clock:
        with engine.begin() as conn:
            schedule.set_schedule(conn, "acme", SyncMode.DAILY, at="22:00", time_zone="America/Chicago")
        enqueue(engine, *(f"Customer {i:02}" for i in range(30)))
        p = polls(service, clock, every=300)
        p.until(local(2026, 1, 5, 22, 30))
    before = [(t, r) for t, r in p.runs if t < local(2026, 1, 5, 22, 0)]
    assert len(before) == 6 and all(r.outcome == Outcome.NONE for _, r in before)
    assert all("sendRequestXML" not in r.calls for _, r in before)
    assert before[-1][1].postpone == 240  # 21:56: asked back for 22:00 exactly, not at 22:01
    ((started, run),) = p.working()
    assert local(2026, 1, 5, 22, 0) <= started <= local(2026, 1, 5, 22, 5)
    assert started == local(2026, 1, 5, 22, 0) and run.outcome == Outcome.DONE
    assert names_in(p) == [f"Customer {i:02}" for i in range(30)]
    after = [r for t, r in p.runs if t > started]
    assert after and all(r.auth_status == "none" and r.postpone is None for r in after)


def test_daily_keeps_the_companys_clock_across_the_end_of_daylight_time(
    service: tuple[Engine, str, companies.NewCompany],
) -> None:
    """22:00 Chicago is 03:00 UTC on Saturday and 04:00 UTC on Sunday, after the clocks went back: work goes at each."""
    engine, _, _ = service
    with time_machine.travel(local(2026, 10, 31, 21, 40), tick=False) as clock:
        with engine.begin() as conn:
            schedule.set_schedule(conn, "acme", SyncMode.DAILY, at="22:00", time_zone="America/Chicago")
        enqueue(engine, "Saturday")
        p = polls(service, clock, every=900)
        p.at[local(2026, 11, 1, 12, 0)] = lambda: enqueue(engine, "Sunday")
        p.until(local(2026, 11, 1, 22, 30))
    starts = [t.astimezone(UTC) for t, _ in p.working()]
    assert starts == [datetime(2026, 11, 1, 3, 0, tzinfo=UTC), datetime(2026, 11, 2, 4, 0, tzinfo=UTC)]
    assert [t.astimezone(CHICAGO).strftime("%H:%M %Z") for t in starts] == ["22:00 CDT", "22:00 CST"]
    assert names_in(p) == ["Saturday", "Sunday"]


def test_manual_waits_until_sync_now_then_goes_at_the_next_poll(
    service: tuple[Engine, str, companies.NewCompany],
) -> None:
    """Manual: the Web Connector comes back every minute and sends nothing, until a sync now; then all goes."""
    engine, _, _ = service
    with time_machine.travel(local(2026, 1, 5, 9, 0), tick=False) as clock:
        with engine.begin() as conn:
            schedule.set_schedule(conn, "acme", SyncMode.MANUAL)
        enqueue(engine, "Ann", "Bob")
        p = polls(service, clock, every=300)

        def press() -> None:
            with engine.begin() as conn:
                schedule.sync_now(conn, "acme")

        p.at[local(2026, 1, 5, 9, 30)] = press
        p.until(local(2026, 1, 5, 9, 45))
    waiting = [(t, r) for t, r in p.runs if t < local(2026, 1, 5, 9, 30)]
    assert len(waiting) == 30 and all(r.postpone == 60 and not r.latencies for _, r in waiting)
    ((started, run),) = p.working()
    assert started == local(2026, 1, 5, 9, 30) and run.outcome == Outcome.DONE
    assert names_in(p) == ["Ann", "Bob"]


def test_every_poll_sends_work_at_the_first_poll_as_before(
    service: tuple[Engine, str, companies.NewCompany],
) -> None:
    """A company with no schedule sends its work at the first poll; nothing queued answers a bare none."""
    engine, _, _ = service
    with time_machine.travel(local(2026, 1, 5, 9, 0), tick=False) as clock:
        enqueue(engine, "Ann")
        p = polls(service, clock, every=300)
        p.until(local(2026, 1, 5, 9, 10))
    assert [t for t, _ in p.working()] == [local(2026, 1, 5, 9, 0)]
    assert [(r.auth_status, r.postpone) for _, r in p.runs[1:]] == [("none", None)]
    assert names_in(p) == ["Ann"]
