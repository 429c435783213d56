"""authenticate's answer under each sync schedule, read by zeep on the official WSDL and as the raw SOAP QBWC parses.

Intuit's guide: the 3rd element postpones the update by that many seconds (with ``none``
too: "Update postponed by application"); the 4th raises the lower limit of the Web
Connector's own interval for good, so the service never sends it (a ratchet it could not
undo would break "within one poll" and "sync now").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from lxml import etree
from sqlalchemy import Engine

from qbwc_service.accounts import schedule
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import SyncMode
from qbwc_service.queue import jobs
from tests.conftest import LiveServer
from tests.helpers import customer_add, qbwc, soap_post

#: 21:56 in Chicago on 5 January 2026: four minutes before a 22:00 schedule.
EVENING = datetime(2026, 1, 6, 3, 56, tzinfo=UTC)
NS = "{http://developer.intuit.com/}"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(EVENING, tick=False) as traveller:
        yield traveller


def answer(live_server: LiveServer, company: NewCompany) -> tuple[list[str], list[str]]:
    """authenticate as zeep reads it, and the raw ``authenticateResult`` strings of the SOAP body."""
    svc: Any = qbwc(live_server.url + "/qbwc")
    read = ["" if s is None else str(s) for s in svc.authenticate(company.username, company.token)]
    body = (
        f'<authenticate xmlns="http://developer.intuit.com/"><strUserName>{company.username}</strUserName>'
        f"<strPassword>{company.token}</strPassword></authenticate>"
    )
    reply = etree.fromstring(soap_post(live_server.url + "/qbwc", "authenticate", body).content)
    result = reply.find(f".//{NS}authenticateResult")
    assert result is not None
    raw = [s.text or "" for s in result.findall(f"{NS}string")]
    return read, raw


def setup(engine: Engine, mode: SyncMode, *, at: str | None = None, work: bool = True) -> None:
    with engine.begin() as conn:
        schedule.set_schedule(conn, "acme", mode, at=at, time_zone="America/Chicago" if at else None)
        if work:
            jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Ann")})


def test_a_near_daily_time_asks_qbwc_back_for_it(
    live_server: LiveServer, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """At 21:56:01 the answer is ``["", "none", "239"]``: three strings, no fourth."""
    setup(engine, SyncMode.DAILY, at="22:00")
    clock.shift(timedelta(seconds=1))
    read, raw = answer(live_server, company)
    assert read == raw == ["", "none", "239"]


def test_a_far_daily_time_keeps_qbwcs_schedule(
    live_server: LiveServer, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """An hour before 22:00 the answer is a bare ``["", "none"]``: QBWC polls at its own interval."""
    clock.move_to(EVENING - timedelta(hours=1))
    setup(engine, SyncMode.DAILY, at="22:00")
    assert answer(live_server, company) == (["", "none"], ["", "none"])


def test_manual_work_asks_qbwc_back_in_a_minute_and_sync_now_opens_a_session(
    live_server: LiveServer, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """Manual with work waiting: ``["", "none", "60"]``; after sync now: ``[ticket, ""]``, two strings."""
    setup(engine, SyncMode.MANUAL)
    assert answer(live_server, company) == (["", "none", "60"], ["", "none", "60"])
    clock.shift(timedelta(seconds=5))
    with engine.begin() as conn:
        schedule.sync_now(conn, "acme")
    svc: Any = qbwc(live_server.url + "/qbwc")
    ticket, status = svc.authenticate(company.username, company.token)
    assert len(ticket) >= 32 and status in ("", None)


def test_manual_with_nothing_queued_stays_quiet(
    live_server: LiveServer, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """Nothing waits: a bare ``none`` whatever the schedule, so an idle company is not polled more often."""
    setup(engine, SyncMode.MANUAL, work=False)
    assert answer(live_server, company) == (["", "none"], ["", "none"])
