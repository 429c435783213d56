"""Sync schedules through the protocol under a frozen clock, and set from the CLI, the JSON API and the admin page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from qbwc_service.accounts import schedule
from qbwc_service.accounts.api_keys import create_api_key
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.cli import main
from qbwc_service.db.models import Company, Job, SyncMode
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from tests.helpers import customer_add, response_doc, rs, send, start
from tests.integration.admin.factories import ADMIN, SUPPORT, login, make_user

#: Monday 5 January 2026, 12:00 in Chicago (UTC-6).
NOON = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
#: That evening's 22:00 in Chicago.
TEN_PM = datetime(2026, 1, 6, 4, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """A frozen clock at noon in Chicago, moved by the test."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def queue(engine: Engine, *names: str) -> list[int]:
    """Queue a customer add per name for acme; their job ids."""
    with engine.begin() as conn:
        return [jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add(n)}).job_id for n in names]


def set_schedule(engine: Engine, mode: SyncMode, at: str | None = None, zone: str | None = None) -> None:
    with engine.begin() as conn:
        schedule.set_schedule(conn, "acme", mode, at=at, time_zone=zone)


def drain(protocol: Protocol, ticket: str) -> int:
    """Answer every message of the session as QuickBooks would, then close it; how many jobs went."""
    sent = 0
    while requests := send(protocol, ticket):
        sent += len(requests)
        answers = [rs(r.get("requestID") or "", ret=f"<CustomerRet><ListID>{r.get('requestID')}</ListID></CustomerRet>")
                   for r in requests]  # fmt: skip
        protocol.receive_response_xml(ticket, response_doc(*answers), "", "")
    protocol.close_connection(ticket)
    return sent


def states(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(s) for s in conn.execute(select(Job.state).order_by(Job.id)).scalars()]


def test_daily_sends_nothing_before_its_time_and_everything_after(
    protocol: Protocol, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """Daily at 22:00 Chicago: polls before it answer none; the first after it starts a session that drains all."""
    set_schedule(engine, SyncMode.DAILY, "22:00", "America/Chicago")
    queue(engine, "Ann", "Bob", "Cy")
    for _ in range(12):  # noon to 21:00, a poll every 45 minutes
        assert protocol.authenticate(company.username, company.token)[:2] == ["", "none"]
        clock.shift(timedelta(minutes=45))
    assert states(engine) == ["queued"] * 3
    clock.move_to(TEN_PM + timedelta(minutes=3))
    ticket = start(protocol, company)
    assert drain(protocol, ticket) == 3
    assert states(engine) == ["done"] * 3
    queue(engine, "Dee")  # queued after the drained session: it waits for tomorrow's 22:00
    clock.shift(timedelta(minutes=5))
    assert protocol.authenticate(company.username, company.token)[:2] == ["", "none"]
    clock.move_to(TEN_PM + timedelta(days=1))
    assert drain(protocol, start(protocol, company)) == 1


def test_a_release_lasts_until_the_queue_is_drained(
    protocol: Protocol, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """A session that breaks off after tonight's time leaves its work released: the next poll resumes it."""
    set_schedule(engine, SyncMode.DAILY, "22:00", "America/Chicago")
    queue(engine, "Ann", "Bob")
    clock.move_to(TEN_PM + timedelta(minutes=1))
    ticket = start(protocol, company)
    assert len(send(protocol, ticket)) == 2
    protocol.connection_error(ticket, "0x80040408", "Could not start QuickBooks.")
    clock.shift(timedelta(minutes=5))
    assert drain(protocol, start(protocol, company)) == 2
    clock.shift(timedelta(minutes=5))
    queue(engine, "Cy")
    assert protocol.authenticate(company.username, company.token)[:2] == ["", "none"]


def test_the_first_poll_with_nothing_ready_closes_the_release(
    protocol: Protocol, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """With nothing queued at tonight's poll the release ends there: work queued later waits for tomorrow."""
    set_schedule(engine, SyncMode.DAILY, "22:00", "America/Chicago")
    clock.move_to(TEN_PM + timedelta(minutes=1))
    assert protocol.authenticate(company.username, company.token)[1] == "none"
    queue(engine, "Ann")
    clock.shift(timedelta(minutes=5))
    assert protocol.authenticate(company.username, company.token)[:2] == ["", "none"]


def test_manual_waits_for_sync_now_which_releases_at_once(
    protocol: Protocol, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """Manual work waits at every poll (QBWC asked back in 60 s); after sync now the very next poll drains it."""
    set_schedule(engine, SyncMode.MANUAL)
    queue(engine, "Ann", "Bob")
    for _ in range(3):
        assert protocol.authenticate(company.username, company.token) == ["", "none", "60"]
        clock.shift(timedelta(days=1))
    with engine.begin() as conn:
        schedule.sync_now(conn, "acme")
    assert drain(protocol, start(protocol, company)) == 2
    queue(engine, "Cy")
    clock.shift(timedelta(seconds=60))
    assert protocol.authenticate(company.username, company.token) == ["", "none", "60"]


def test_sync_now_sends_a_daily_companys_work_before_its_time(
    protocol: Protocol, company: NewCompany, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """At noon a sync now releases the waiting work of a company scheduled for 22:00."""
    set_schedule(engine, SyncMode.DAILY, "22:00", "America/Chicago")
    queue(engine, "Ann")
    assert protocol.authenticate(company.username, company.token) == ["", "none"]
    clock.shift(timedelta(minutes=1))
    with engine.begin() as conn:
        schedule.sync_now(conn, "acme")
    assert drain(protocol, start(protocol, company)) == 1


def test_every_poll_is_unchanged(protocol: Protocol, company: NewCompany, engine: Engine) -> None:
    """A company that never chose a schedule syncs at every poll, and nothing queued answers a bare none."""
    with engine.connect() as conn:
        assert conn.execute(select(Company.sync_mode)).scalar_one() is SyncMode.EVERY_POLL
    assert protocol.authenticate(company.username, company.token) == ["", "none"]
    queue(engine, "Ann")
    ticket, status = protocol.authenticate(company.username, company.token)
    assert ticket and status == ""
    assert drain(protocol, ticket) == 1
    queue(engine, "Bob")
    assert drain(protocol, start(protocol, company)) == 1


def test_a_bad_schedule_is_refused_and_the_old_one_kept(company: NewCompany, engine: Engine) -> None:
    """A bad zone, a bad time or a daily schedule without both is refused with one sentence; nothing changes."""
    set_schedule(engine, SyncMode.MANUAL)
    cases = [
        (SyncMode.DAILY, "22:00", "America/Chicgo", "'America/Chicgo' is not a time zone"),
        (SyncMode.DAILY, "24:00", "America/Chicago", "the sync time is HH:MM on a 24-hour clock"),
        (SyncMode.DAILY, "22:00", None, "a daily schedule needs a time (HH:MM) and a time zone"),
        (SyncMode.MANUAL, "22:00", None, "a time and a time zone are given only with a daily schedule"),
    ]
    for mode, at, zone, message in cases:
        with pytest.raises(schedule.InvalidSchedule, match=re.escape(message)), engine.begin() as conn:
            schedule.set_schedule(conn, "acme", mode, at=at, time_zone=zone)
    with engine.connect() as conn:
        assert schedule.show(conn, "acme")["mode"] == "manual"


# -- the CLI ---------------------------------------------------------------------------


@pytest.fixture
def cli(sqlite_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QBWC_DATABASE_URL", sqlite_url)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert invoke("company", "create", "acme", "--username", "acme-qbwc")[0] == 0
    return invoke


def test_cli_sets_shows_and_syncs_now(cli, clock: time_machine.Coordinates) -> None:  # type: ignore[no-untyped-def]
    """`company schedule`, `--json company show` and `sync-now` set, show and release the schedule."""
    code, out, _ = cli("company", "schedule", "acme", "--daily", "22:00", "--tz", "America/Chicago")
    assert code == 0
    assert "acme syncs daily at 22:00 (America/Chicago); 0 queued job(s)" in out
    assert "next sync at 2026-01-05T22:00:00-06:00 (2026-01-06T04:00:00+00:00 UTC)" in out
    code, out, _ = cli("--json", "company", "show", "acme")
    shown = json.loads(out)
    assert code == 0 and shown["poll_minutes"] == 5
    assert {k: shown["schedule"][k] for k in ("mode", "at", "time_zone", "released", "next_sync_at")} == {
        "mode": "daily", "at": "22:00", "time_zone": "America/Chicago", "released": False,
        "next_sync_at": "2026-01-06T04:00:00+00:00",
    }  # fmt: skip
    clock.shift(timedelta(seconds=1))
    code, out, _ = cli("sync-now", "acme")
    assert code == 0 and "the waiting work goes at the Web Connector's next poll" in out
    code, out, _ = cli("--json", "company", "schedule", "acme", "--every-poll")
    assert json.loads(out)["schedule"]["mode"] == "every_poll"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--daily", "22:00", "--tz", "Nowhere/Land"], "error: 'Nowhere/Land' is not a time zone"),
        (["--daily", "7pm", "--tz", "UTC"], "error: the sync time is HH:MM on a 24-hour clock (e.g. 22:00), not '7pm'"),
        (["--manual", "--every-poll"], "error: give one of --daily HH:MM (with --tz ZONE), --manual or --every-poll"),
        (["--daily", "22:00"], "error: a daily schedule needs a time (HH:MM) and a time zone"),
    ],
)
def test_cli_refuses_a_bad_schedule_in_one_line(cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    """A bad zone, time or combination is one line on stderr, exit 1, and the schedule stays every poll."""
    code, _, err = cli("company", "schedule", "acme", *args)
    assert code == 1 and err.startswith(message) and len(err.strip().splitlines()) == 1
    assert json.loads(cli("--json", "company", "show", "acme")[1])["schedule"]["mode"] == "every_poll"


def test_cli_refuses_a_poll_interval_over_15_minutes(cli) -> None:  # type: ignore[no-untyped-def]
    """`company create --poll-minutes 60` is refused with the reason."""
    code, _, err = cli("company", "create", "slow", "--username", "slow-qbwc", "--poll-minutes", "60")
    assert code == 1
    assert "error: The poll interval is 1 to 15 minutes, not 60: a daily sync starts within one poll" in err


def test_cli_names_an_unknown_company(cli) -> None:  # type: ignore[no-untyped-def]
    """sync-now of a company that does not exist says so."""
    code, _, err = cli("sync-now", "nowhere")
    assert code == 1 and "nowhere" in err


# -- the JSON API ----------------------------------------------------------------------


@pytest.fixture
def api(app: Flask, engine: Engine, company: NewCompany) -> tuple[FlaskClient, dict[str, str]]:
    with engine.begin() as conn:
        key = create_api_key(conn, "shop").key
    return app.test_client(), {"Authorization": f"Bearer {key}"}


def test_api_sets_reads_and_syncs_now(api: tuple[FlaskClient, dict[str, str]], engine: Engine, clock) -> None:  # type: ignore[no-untyped-def]
    """PUT sets the schedule, GET shows it with the waiting jobs, POST sync-now releases them."""
    client, auth = api
    body = {"mode": "daily", "at": "22:00", "time_zone": "America/Chicago"}
    put = client.put("/api/v1/companies/acme/schedule", json=body, headers=auth)
    assert put.status_code == 200 and put.json["next_sync_local"] == "2026-01-05T22:00:00-06:00"
    queue(engine, "Ann", "Bob")
    got = client.get("/api/v1/companies/acme/schedule", headers=auth).json
    assert (got["waiting"], got["released"]) == (2, False)
    clock.shift(timedelta(seconds=1))
    now = client.post("/api/v1/companies/acme/sync-now", headers=auth)
    assert now.status_code == 200 and now.json["released"] is True and now.json["next_sync_at"] is None


def test_api_refuses_a_bad_schedule(api: tuple[FlaskClient, dict[str, str]]) -> None:
    """A bad zone is 422 with one sentence; a body without a mode 400; an unknown company 404; no key 401."""
    client, auth = api
    bad = client.put("/api/v1/companies/acme/schedule", json={"mode": "daily", "at": "22:00", "time_zone": "CST6"},
                     headers=auth)  # fmt: skip
    assert bad.status_code == 422 and bad.json == {
        "error": "'CST6' is not a time zone: give an IANA name such as America/Chicago, Europe/London or UTC"
    }
    assert client.put("/api/v1/companies/acme/schedule", json={}, headers=auth).status_code == 400
    assert client.post("/api/v1/companies/nowhere/sync-now", headers=auth).status_code == 404
    assert client.post("/api/v1/companies/acme/sync-now").status_code == 401
    assert client.get("/api/v1/companies/acme/schedule", headers=auth).json["mode"] == "every_poll"


# -- the admin page --------------------------------------------------------------------


@pytest.fixture
def staff_client(app: Flask, engine: Engine, company: NewCompany) -> FlaskClient:
    """A test client (CSRF off; the CSRF tests cover every POST) with an admin and a support user."""
    make_user(engine, ADMIN, "admin")
    make_user(engine, SUPPORT, "support")
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def _company_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(Company.id)).scalar_one())


def test_company_page_shows_the_schedule_and_what_waits(
    staff_client: FlaskClient, engine: Engine, clock: time_machine.Coordinates
) -> None:
    """The page names the schedule, the next sync in Chicago and UTC time, and the queued jobs waiting for it."""
    assert login(staff_client, ADMIN).status_code == 302
    cid = _company_id(engine)
    saved = staff_client.post(f"/companies/{cid}/schedule",
                              data={"mode": "daily", "at": "22:00", "time_zone": "America/Chicago"})  # fmt: skip
    assert saved.status_code == 302
    queue(engine, "Ann", "Bob", "Cy")
    page = staff_client.get(f"/companies/{cid}").get_data(as_text=True)
    assert "Syncs daily at 22:00 (America/Chicago)" in page
    assert "acme now syncs daily at 22:00 (America/Chicago)." in page  # the flash of the save
    assert "next sync at 2026-01-05 22:00 CST (America/Chicago), 2026-01-06 04:00 UTC" in page
    assert "3 queued jobs wait for it" in page and ">Sync now</button>" in page
    clock.shift(timedelta(seconds=1))
    assert staff_client.post(f"/companies/{cid}/sync-now").status_code == 302
    page = staff_client.get(f"/companies/{cid}").get_data(as_text=True)
    assert "goes at the Web Connector&#39;s next poll" in page or "goes at the Web Connector's next poll" in page
    assert "the waiting work is released" in page


def test_company_page_refuses_a_bad_schedule_with_one_error(staff_client: FlaskClient, engine: Engine) -> None:
    """A misspelt zone re-shows the form with the typed values, one error and 400; the schedule is unchanged."""
    assert login(staff_client, ADMIN).status_code == 302
    cid = _company_id(engine)
    bad = staff_client.post(f"/companies/{cid}/schedule",
                            data={"mode": "daily", "at": "22:00", "time_zone": "Amerca/Chicago"})  # fmt: skip
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert page.count('id="schedule-error"') == 1 and "Amerca/Chicago" in page and "is not a time zone" in page
    with engine.connect() as conn:
        assert schedule.show(conn, "acme")["mode"] == "every_poll"


def test_support_may_sync_now_but_not_change_the_schedule(staff_client: FlaskClient, engine: Engine) -> None:
    """Support staff get the Sync now button of a scheduled company, and no schedule form."""
    set_schedule(engine, SyncMode.MANUAL)
    assert login(staff_client, SUPPORT).status_code == 302
    cid = _company_id(engine)
    page = staff_client.get(f"/companies/{cid}").get_data(as_text=True)
    assert ">Sync now</button>" in page and "Save schedule" not in page
    assert staff_client.post(f"/companies/{cid}/schedule", data={"mode": "every_poll"}).status_code == 403
    assert staff_client.post(f"/companies/{cid}/sync-now").status_code == 302
    with engine.connect() as conn:
        assert conn.execute(select(Company.sync_requested_at)).scalar_one() is not None
