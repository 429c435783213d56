"""Alert sweeps where they run for real: two gunicorn workers on PostgreSQL, and the cron command."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, update

from qbwc_service.accounts import companies
from qbwc_service.cli import main
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Company, utcnow
from qbwc_service.queue import jobs
from tests.helpers import customer_add, start_gunicorn
from tests.receivers import WebhookReceiver, wait_for

SECRET = "whsec-served-77a0"


def _late_company(engine: Engine) -> None:
    """acme, last polled an hour ago (12 of its intervals) with a job waiting."""
    with engine.begin() as conn:
        companies.create_company(conn, "acme", "acme-qbwc")
        conn.execute(update(Company).values(last_poll_at=utcnow() - timedelta(hours=1)))
        jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Contoso")})


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    """A webhook receiver answering 200."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.mark.postgres
@pytest.mark.slow
def test_two_gunicorn_workers_sweeping_each_second_send_each_message_once(
    pg_url: str,
    tmp_path: Path,
    hooks: WebhookReceiver,
) -> None:
    """Both workers offer a sweep every second; the incident and its recovery each reach the webhook once."""
    engine = make_engine(pg_url)
    _late_company(engine)
    env = {"QBWC_ALERT_SWEEP_SECONDS": "1", "QBWC_ALERT_WEBHOOK_URL": hooks.url, "QBWC_ALERT_WEBHOOK_SECRET": SECRET}
    proc, _ = start_gunicorn(pg_url, 2, tmp_path / "access.log", **env)
    try:
        wait_for(lambda: len(hooks.hooks) >= 1)
        time.sleep(4)  # several sweeps of each worker later
        assert hooks.events() == ["incident.opened"]
        with engine.begin() as conn:
            conn.execute(update(Company).values(last_poll_at=utcnow()))
        wait_for(lambda: len(hooks.hooks) >= 2)
        time.sleep(4)
        assert hooks.events() == ["incident.opened", "incident.recovered"]
        assert all(h.signed_with(SECRET) for h in hooks.hooks)
    finally:
        proc.terminate()
        proc.wait(30)
        engine.dispose()


def test_alerts_check_from_cron_sweeps_once_and_lists(
    db_url: str, engine: Engine, hooks: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`alerts check` opens the incident and sends it; run again it sends nothing; `alerts list` shows it."""
    _late_company(engine)
    for name, value in {"QBWC_DATABASE_URL": db_url, "QBWC_ALERT_WEBHOOK_URL": hooks.url,
                        "QBWC_ALERT_WEBHOOK_SECRET": SECRET, "QBWC_LOG_LEVEL": "WARNING"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    first = runner.invoke(main, ["alerts", "check"])
    assert first.exit_code == 0, first.output
    assert "incident 1 opened: acme has not polled for 1 hour" in first.output
    assert "incident 1 webhook: the opened message was sent" in first.output
    again = runner.invoke(main, ["--json", "alerts", "check"])
    assert again.exit_code == 0 and '"changes": []' in again.output
    assert hooks.events() == ["incident.opened"]
    listed = runner.invoke(main, ["alerts", "list"])
    assert "acme\tNot polling\tacme has not polled for 1 hour" in listed.output
    monkeypatch.setenv("QBWC_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/")
    with engine.begin() as conn:
        conn.execute(update(Company).values(last_poll_at=utcnow()))
    failed = runner.invoke(main, ["alerts", "check"])
    assert failed.exit_code == 1 and "cannot reach the webhook at http://127.0.0.1:9/…" in failed.output
