"""``qbwc-service alerts``: run an alert sweep from cron, list open incidents."""

from __future__ import annotations

import click

from qbwc_service.cli.state import CliState, Group, pass_state


@click.group(cls=Group)
def alerts() -> None:
    """Incidents of companies that stop polling or keep failing."""


@alerts.command("check")
@pass_state
def alerts_check(state: CliState) -> None:
    """Open and close incidents and send their messages now (what each worker does every QBWC_ALERT_SWEEP_SECONDS).

    Safe beside running workers and other hosts: a database lease lets one sweep run at a
    time, and each message goes out once. Exits 1 when a message could not be sent.
    """
    from qbwc_service.alerts.sweep import sweep

    report = sweep(state.engine, state.settings)
    if report is None:
        state.emit({"swept": False}, "another sweep is running; nothing done")
        return
    changes = [{"incident": c.incident_id, "company": c.company, "rule": c.rule.value, "notice": c.notice.value,
                "text": c.text} for c in report.changes]  # fmt: skip
    sent = [{"incident": d.incident_id, "channel": d.channel.value, "notice": d.notice.value, "sent": d.sent,
             "text": d.text} for d in report.deliveries]  # fmt: skip
    lines = [f"incident {c['incident']} {c['notice']}: {c['text']}" for c in changes]
    lines += [f"incident {d['incident']} {d['text']}" for d in sent]
    state.emit({"swept": True, "changes": changes, "deliveries": sent}, "\n".join(lines) or "nothing changed")
    if any(not d.sent for d in report.deliveries):
        raise SystemExit(1)


@alerts.command("list")
@pass_state
def alerts_list(state: CliState) -> None:
    """The open incidents, newest first."""
    from qbwc_service.alerts import incidents

    with state.engine.connect() as conn:
        _, rows = incidents.open_incidents(conn, limit=1000)
    data = [{"id": r.id, "company": r.company, "rule": r.rule.value, "opened_at": r.opened_at.isoformat(),
             "summary": r.summary} for r in rows]  # fmt: skip
    text = "\n".join(f"{r.id}\t{r.opened_at:%Y-%m-%d %H:%M}\t{r.company}\t{r.title}\t{r.summary}" for r in rows)
    state.emit(data, text or "no open incident")
