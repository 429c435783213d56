"""Alert sweeps on a real database under a fake clock: incidents open once, are sent once, recover once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, select, update

from qbwc_service.accounts import companies
from qbwc_service.alerts import incidents
from qbwc_service.alerts.sweep import sweep
from qbwc_service.config import Settings, load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import (
    Company,
    DeliveryState,
    Incident,
    IncidentDelivery,
    IncidentRule,
    QbwcSession,
    SessionState,
)
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from tests.helpers import customer_add
from tests.receivers import SmtpReceiver, WebhookReceiver
from tests.sweepers import Sweepers

SECRET = "whsec-test-4c1d9e"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def settings_for(url: str, **overrides: Any) -> Settings:
    """Settings on ``url`` with the alert overrides, and no environment."""
    return load_settings({"database_url": url, "log_level": "WARNING", **overrides}, environ={})


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    """A webhook receiver answering 200."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def acme(engine: Engine) -> companies.NewCompany:
    """acme, polling every 5 minutes, created and last polled at T0, with two jobs waiting."""
    with time_machine.travel(T0, tick=False), engine.begin() as conn:
        created = companies.create_company(conn, "acme", "acme-qbwc")
        conn.execute(update(Company).values(last_poll_at=T0))
        for name in ("Zoë & Co", "Northwind"):
            jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add(name)})
    return created


def _sweep_at(when: datetime, url: str, settings: Settings) -> Any:
    engine = make_engine(url)
    try:
        with time_machine.travel(when, tick=True):
            return sweep(engine, settings)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_processes_sweeping_send_the_webhook_once_and_the_recovery_once(
    db_url: str, engine: Engine, acme: companies.NewCompany, hooks: WebhookReceiver, protocol: Protocol
) -> None:
    """Two processes sweep together at each step; the receiver gets one signed opened and one recovered message."""
    overrides = {"alert_webhook_url": hooks.url, "alert_webhook_secret": SECRET}
    with Sweepers(2, db_url, overrides) as sweepers:
        sweepers.sweep_at(T0 + timedelta(minutes=10))  # 2 intervals: not late yet
        assert hooks.hooks == []
        sweepers.sweep_at(T0 + timedelta(minutes=16))
        assert hooks.events() == ["incident.opened"]
        sweepers.sweep_at(T0 + timedelta(minutes=30))  # still late: nothing new
        assert hooks.events() == ["incident.opened"]
        with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
            protocol.authenticate(acme.username, acme.token)  # the Web Connector polls again
        sweepers.sweep_at(T0 + timedelta(minutes=32))
        sweepers.sweep_at(T0 + timedelta(minutes=40))
    assert hooks.events() == ["incident.opened", "incident.recovered"]
    opened, recovered = hooks.hooks
    assert opened.signed_with(SECRET) and recovered.signed_with(SECRET)
    assert not opened.signed_with("another secret")
    assert opened.headers["X-QBWC-Event"] == "incident.opened"
    incident = opened.document["incident"]
    assert incident["company"] == "acme" and incident["rule"] == "not_polling"
    assert incident["summary"] == "acme has not polled for 16 minutes (it should every 5 minutes) while 2 jobs wait"
    assert recovered.document["incident"]["recovery"] == "acme polled again"
    assert recovered.document["incident"]["closed_at"].startswith("2026-11-30T09:32:00")
    with engine.connect() as conn:
        lines = [h.message for h in incidents.history(conn, incident["id"])]
    assert lines[0] == "Opened: " + incident["summary"]
    assert lines[1].startswith("webhook: the opened message was sent: the webhook at http://127.0.0.1:")
    assert "s3cr3t-path" not in " ".join(lines)
    assert lines[2:] == ["Recovered: acme polled again", lines[3]] and lines[3].startswith("webhook: the recovered")


def test_no_poll_for_hours_opens_an_incident_even_without_work(
    db_url: str, engine: Engine, acme: companies.NewCompany
) -> None:
    """With nothing queued, lateness alone opens nothing until QBWC_ALERT_SILENT_HOURS pass."""
    with engine.begin() as conn:
        conn.execute(update(jobs_table()).values(state="cancelled", finished_at=T0))
    settings = settings_for(db_url, alert_silent_hours=6)
    assert _sweep_at(T0 + timedelta(hours=5), db_url, settings).changes == []
    report = _sweep_at(T0 + timedelta(hours=6, minutes=1), db_url, settings)
    assert [(c.rule, c.text) for c in report.changes] == [(IncidentRule.NOT_POLLING, "acme has not polled for 6 hours")]


def jobs_table() -> Any:
    """The job table (cancelling acme's work directly, outside the queue's verbs, only to set the scene)."""
    from qbwc_service.db.models import Job

    return Job


def test_failed_sessions_and_failed_jobs_open_their_incidents_and_email_goes_out(
    db_url: str, engine: Engine, acme: companies.NewCompany
) -> None:
    """Three failed sessions in a row and ten failed jobs each open an incident, e-mailed to a local SMTP server."""
    with engine.begin() as conn:
        conn.execute(update(Company).values(last_poll_at=T0 + timedelta(minutes=30)))
        for i in range(3):
            at = T0 + timedelta(minutes=10 * i)
            conn.execute(
                QbwcSession.__table__.insert().values(
                    ticket=f"t{i}", company_id=acme.id, state=SessionState.FAILED, started_at=at, last_seen_at=at,
                    ended_at=at, last_error="QuickBooks is not running" if i == 2 else "earlier",
                )
            )  # fmt: skip
        conn.execute(update(jobs_table()).values(state="failed", finished_at=T0))
        for i in range(8):
            jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add(f"Extra {i}")})
        conn.execute(update(jobs_table()).values(state="failed", finished_at=T0))
    with SmtpReceiver() as smtp:
        settings = settings_for(
            db_url, alert_email_to="ops@example.com,bookkeeper@example.com", alert_email_from="qbwc@example.com",
            smtp_host="127.0.0.1", smtp_port=smtp.port,
        )  # fmt: skip
        report = _sweep_at(T0 + timedelta(minutes=31), db_url, settings)
        assert {c.rule for c in report.changes} == {IncidentRule.SESSIONS_FAILING, IncidentRule.JOBS_FAILING}
        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert subjects == ["[qbwc-service] Jobs failing: acme", "[qbwc-service] Sessions failing: acme"]
        sessions_mail = next(m for m in smtp.messages if "Sessions" in m["Subject"])
        assert sessions_mail["To"] == "ops@example.com, bookkeeper@example.com"
        assert "acme: its last 3 Web Connector sessions failed; the last one said: QuickBooks is not running" in (
            sessions_mail.get_content()
        )
        assert _sweep_at(T0 + timedelta(minutes=32), db_url, settings).changes == []
        assert len(smtp.messages) == 2
        with engine.begin() as conn:  # a clean session, and the failed jobs retried
            conn.execute(
                QbwcSession.__table__.insert().values(
                    ticket="t9", company_id=acme.id, state=SessionState.CLOSED, started_at=T0 + timedelta(minutes=33),
                    last_seen_at=T0 + timedelta(minutes=33), ended_at=T0 + timedelta(minutes=33),
                )
            )  # fmt: skip
            jobs.retry_all_failed(conn, acme.id, actor="ops")
        report = _sweep_at(T0 + timedelta(minutes=34), db_url, settings)
        assert sorted(c.text for c in report.changes) == [
            "a Web Connector session of acme finished without failing", "acme has 0 jobs failed now",
        ]  # fmt: skip
        assert sorted(m["Subject"] for m in smtp.messages[2:]) == [
            "[qbwc-service] Recovered: Jobs failing: acme", "[qbwc-service] Recovered: Sessions failing: acme",
        ]  # fmt: skip


def test_a_bad_webhook_url_is_an_error_in_the_history_and_the_sweep_goes_on(
    db_url: str, engine: Engine, acme: companies.NewCompany
) -> None:
    """A refused connection is retried by the next sweeps, then given up; e-mail and other incidents still go."""
    with engine.begin() as conn:
        beta = companies.create_company(conn, "beta", "beta-qbwc")
        conn.execute(update(Company).where(Company.id == beta.id).values(created_at=T0, last_poll_at=T0))
        jobs.enqueue(conn, "beta", "qbxml", {"request": customer_add("Beta customer")})
    with SmtpReceiver() as smtp:
        settings = settings_for(
            db_url, alert_webhook_url="http://127.0.0.1:9/hook?token=abc", alert_webhook_secret=SECRET,
            alert_email_to="ops@example.com", smtp_host="127.0.0.1", smtp_port=smtp.port,
        )  # fmt: skip
        report = _sweep_at(T0 + timedelta(minutes=20), db_url, settings)
        assert len(report.changes) == 2  # acme and beta
        assert len(smtp.messages) == 2
        failed = [d for d in report.deliveries if not d.sent]
        assert len(failed) == 2 and all(d.channel == "webhook" for d in failed)
        assert "cannot reach the webhook at http://127.0.0.1:9/…: connection refused" in failed[0].text
        assert "attempt 1 of 3, tried again at the next sweep" in failed[0].text
        for minute in (21, 22):
            _sweep_at(T0 + timedelta(minutes=minute), db_url, settings)
        assert _sweep_at(T0 + timedelta(minutes=23), db_url, settings).deliveries == []
        assert len(smtp.messages) == 2
    with engine.connect() as conn:
        states = conn.execute(
            select(IncidentDelivery.channel, IncidentDelivery.state, IncidentDelivery.attempts)
            .join(Incident)
            .where(Incident.company_id == acme.id)
            .order_by(IncidentDelivery.channel)
        ).all()
        assert [tuple(s) for s in states] == [("email", DeliveryState.SENT, 1), ("webhook", DeliveryState.FAILED, 3)]
        incident = conn.execute(select(Incident.id).where(Incident.company_id == acme.id)).scalar_one()
        errors = [h.message for h in incidents.history(conn, incident) if h.error]
    assert len(errors) == 3 and "attempt 3 of 3, given up" in errors[-1]
    assert all("token=abc" not in e and SECRET not in e for e in errors)


def test_a_webhook_url_that_is_no_url_fails_at_once_and_secrets_stay_out_of_logs(
    db_url: str, engine: Engine, acme: companies.NewCompany, caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed URL is given up at the first try with a sentence naming the setting; no secret reaches a log."""
    from qbwc_service import logs

    caplog.set_level("INFO", logger=logs.LOGGER_NAME)
    settings = settings_for(
        db_url, alert_webhook_url="hooks.example.com/qbwc", alert_webhook_secret=SECRET,
        alert_email_to="ops@example.com", smtp_host="127.0.0.1", smtp_port=9, smtp_user="ops",
        smtp_password="smtp-pass-81f2",
    )  # fmt: skip
    report = _sweep_at(T0 + timedelta(minutes=20), db_url, settings)
    texts = {d.channel.value: d.text for d in report.deliveries}
    assert "QBWC_ALERT_WEBHOOK_URL is not an http:// or https:// URL" in texts["webhook"]
    assert "attempt 1 of 3, given up" in texts["webhook"]
    assert "cannot reach the SMTP server 127.0.0.1:9" in texts["email"]
    formatter = logs.FactsFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert "alert_not_delivered" in logged and "incident_opened" in logged
    assert SECRET not in logged and "smtp-pass-81f2" not in logged
