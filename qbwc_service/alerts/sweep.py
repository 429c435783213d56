"""One alert sweep: under the lease, open and close incidents, then send the messages still owed.

Every gunicorn worker offers a sweep each ``QBWC_ALERT_SWEEP_SECONDS`` (``worker.py``) and
``qbwc-service alerts check`` runs one from cron; the lease lets one run at a time, and each
message is claimed by a guarded UPDATE before it is sent, so it goes out once however many
processes sweep. A message that fails is tried again by the next sweeps, ``MAX_ATTEMPTS`` in
all; each failure is a line of the incident's history, and the sweep goes on with the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import ColumnElement, Engine, and_, insert, or_, select, update

from qbwc_service.alerts import deliver, incidents, lease
from qbwc_service.alerts.facts import alert_facts
from qbwc_service.alerts.incidents import Change
from qbwc_service.alerts.rules import Thresholds, conditions
from qbwc_service.config import Settings
from qbwc_service.db.models import Channel, DeliveryState, IncidentDelivery, IncidentEvent, Notice, utcnow
from qbwc_service.errors import DeliveryError
from qbwc_service.logs import log

LEASE_NAME = "alert_sweep"
#: How long a sweep may hold the lease (and a message stay claimed) before another may take it.
LEASE_HOLD = timedelta(minutes=5)
#: Attempts at one message before it is given up.
MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Delivered:
    """What became of one message in this sweep."""

    delivery_id: int
    incident_id: int
    channel: Channel
    notice: Notice
    sent: bool
    text: str


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did."""

    changes: list[Change] = field(default_factory=list)
    deliveries: list[Delivered] = field(default_factory=list)


def channels(settings: Settings) -> list[Channel]:
    """The channels the settings configure."""
    found = []
    if settings.alert_webhook_url:
        found.append(Channel.WEBHOOK)
    if settings.alert_email_to:
        found.append(Channel.EMAIL)
    return found


def sweep(engine: Engine, settings: Settings, *, every: timedelta | None = None) -> SweepReport | None:
    """Run one sweep unless another process holds the lease (or, with ``every``, ran one that recently)."""
    holder = lease.holder_name()
    if not lease.acquire(engine, LEASE_NAME, holder, utcnow(), hold=LEASE_HOLD, every=every):
        return None
    try:
        now = utcnow()
        limits = Thresholds.from_settings(settings)
        with engine.begin() as conn:
            facts = alert_facts(conn, limits.failed_sessions)
            verdicts = {f.company_id: conditions(f, now, limits) for f in facts}
            changes = incidents.reconcile(conn, facts, verdicts, channels(settings), now)
        for c in changes:
            event = "incident_opened" if c.notice is Notice.OPENED else "incident_recovered"
            log(logging.WARNING if c.notice is Notice.OPENED else logging.INFO, event,
                company=c.company, rule=c.rule.value, incident=c.incident_id)  # fmt: skip
        return SweepReport(changes, deliver_pending(engine, settings))
    finally:
        lease.release(engine, LEASE_NAME, holder, utcnow())


def _claimable() -> ColumnElement[bool]:
    """A message waiting, or claimed by a sweep that died (its claim older than the lease)."""
    stale = utcnow() - LEASE_HOLD
    return or_(
        IncidentDelivery.state == DeliveryState.PENDING,
        and_(IncidentDelivery.state == DeliveryState.SENDING, IncidentDelivery.claimed_at < stale),
    )


def deliver_pending(engine: Engine, settings: Settings) -> list[Delivered]:
    """Send every message not yet sent (oldest first), each claimed first; failures are recorded, not raised."""
    with engine.begin() as conn:
        ids = (
            conn.execute(select(IncidentDelivery.id).where(_claimable()).order_by(IncidentDelivery.id)).scalars().all()
        )
    found = [_deliver_one(engine, settings, delivery_id) for delivery_id in ids]
    return [d for d in found if d is not None]


def _deliver_one(engine: Engine, settings: Settings, delivery_id: int) -> Delivered | None:
    now = utcnow()
    with engine.begin() as conn:
        claimed = conn.execute(
            update(IncidentDelivery)
            .where(IncidentDelivery.id == delivery_id, _claimable())
            .values(state=DeliveryState.SENDING, attempts=IncidentDelivery.attempts + 1, claimed_at=now)
            .returning(IncidentDelivery.incident_id, IncidentDelivery.notice, IncidentDelivery.channel,
                       IncidentDelivery.attempts)
        ).first()  # fmt: skip
        if claimed is None:  # another sweep took it meanwhile
            return None
        incident = incidents.get(conn, claimed.incident_id)
    channel, notice, attempt = Channel(claimed.channel), Notice(claimed.notice), claimed.attempts
    assert incident is not None, "a delivery's incident is deleted with it"
    document = deliver.body(incident, notice, settings)
    try:
        if channel is Channel.WEBHOOK:
            text = deliver.post_webhook(settings, document, delivery_id)
        else:
            text = deliver.send_email(settings, document)
    except Exception as exc:  # any failure of one message is recorded; the sweep goes on
        error = exc if isinstance(exc, DeliveryError) else DeliveryError(f"unexpected {type(exc).__name__}")
        last = error.permanent or attempt >= MAX_ATTEMPTS
        tail = "given up" if last else "tried again at the next sweep"
        line = (
            f"{channel.value}: the {notice.value} message failed (attempt {attempt} of {MAX_ATTEMPTS}, {tail}): {error}"
        )
        state = DeliveryState.FAILED if last else DeliveryState.PENDING
        _record(engine, delivery_id, claimed.incident_id, channel, state, line, str(error))
        log(logging.ERROR, "alert_not_delivered", incident=claimed.incident_id, channel=channel.value,
            notice=notice.value, attempt=attempt, error=str(error))  # fmt: skip
        return Delivered(delivery_id, claimed.incident_id, channel, notice, False, line)
    line = f"{channel.value}: the {notice.value} message was sent: {text}"
    _record(engine, delivery_id, claimed.incident_id, channel, DeliveryState.SENT, line, None)
    log(logging.INFO, "alert_delivered", incident=claimed.incident_id, channel=channel.value, notice=notice.value)
    return Delivered(delivery_id, claimed.incident_id, channel, notice, True, line)


def _record(engine: Engine, delivery_id: int, incident_id: int, channel: Channel, state: DeliveryState,
            line: str, error: str | None) -> None:  # fmt: skip
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            update(IncidentDelivery)
            .where(IncidentDelivery.id == delivery_id, IncidentDelivery.state == DeliveryState.SENDING)
            .values(state=state, last_error=error, sent_at=now if state is DeliveryState.SENT else None)
        )
        conn.execute(
            insert(IncidentEvent).values(
                incident_id=incident_id, at=now, message=line, channel=channel, error=error is not None
            )
        )
