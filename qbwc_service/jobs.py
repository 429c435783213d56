"""The job queue: enqueue work, lease it to QBWC sessions, record what came back.

This is the only module that writes ``job.state``. Every transition is a guarded
compare-and-set UPDATE and appends a :class:`JobEvent`. The functions on the QBWC hot
path speak SQLAlchemy Core on a :class:`Connection`; callers holding an ORM ``Session``
pass ``session.connection()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .errors import CompanyNotFound, JobNotFound, JobStateError, PayloadError
from .kinds import get_kind
from .models import Company, Job, JobEvent, JobState, QbwcSession, SessionState, utcnow

#: The columns a leased job brings to the session that sends it.
LEASED_COLUMNS = (
    Job.id,
    Job.kind,
    Job.payload,
    Job.attempts,
    Job.max_attempts,
    Job.step,
    Job.progress,
)


@dataclass(frozen=True, slots=True)
class Enqueued:
    """The outcome of :func:`enqueue`."""

    job_id: int
    state: JobState
    #: False when the idempotency key matched a job enqueued before.
    created: bool


@dataclass(frozen=True, slots=True)
class LeasedJob:
    """A job handed to a QBWC session."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    step: int
    progress: dict[str, Any] | None


def events(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append job events (``job_id``, ``from_state``, ``to_state``, ``ticket``, ``actor``, ``message``)."""
    batch = [dict(r) for r in rows]
    if batch:
        now = utcnow()
        for row in batch:
            row.setdefault("at", now)
            row.setdefault("ticket", None)
            row.setdefault("message", None)
            row.setdefault("from_state", None)
            row.setdefault("to_state", None)
            row.setdefault("actor", "system")
        conn.execute(insert(JobEvent), batch)


def company_id_by_name(conn: Connection, name: str) -> int:
    """The id of the company called ``name``."""
    found = conn.execute(select(Company.id).where(Company.name == name)).scalar_one_or_none()
    if found is None:
        raise CompanyNotFound(name)
    return found


def enqueue(
    conn: Connection,
    company: str | int,
    kind: str,
    payload: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
    priority: int = 0,
    depends_on: int | None = None,
    max_attempts: int = 5,
    actor: str = "api",
) -> Enqueued:
    """Validate ``payload`` for ``kind`` and queue it for ``company`` (a name or an id).

    With an ``idempotency_key`` already used for the company, nothing is queued and the
    earlier job is returned (``created=False``).
    """
    company_id = company if isinstance(company, int) else company_id_by_name(conn, company)
    if not isinstance(payload, Mapping):
        raise PayloadError(kind, ["payload: must be a JSON object"])
    job_kind = get_kind(kind)
    clean = job_kind.validate(payload)
    if idempotency_key is not None:
        earlier = _by_idempotency_key(conn, company_id, idempotency_key)
        if earlier is not None:
            return earlier
    if depends_on is not None:
        dep_company = conn.execute(select(Job.company_id).where(Job.id == depends_on)).scalar()
        if dep_company != company_id:
            raise PayloadError(kind, [f"depends_on: job {depends_on} is not a job of this company"])
    now = utcnow()
    values = {
        "company_id": company_id,
        "kind": kind,
        "payload": clean,
        "idempotency_key": idempotency_key,
        "reference": job_kind.reference(clean),
        "priority": priority,
        "state": JobState.QUEUED,
        "attempts": 0,
        "max_attempts": max_attempts,
        "depends_on_id": depends_on,
        "step": 0,
        "send_alone": False,
        "created_at": now,
        "updated_at": now,
    }
    try:
        with conn.begin_nested():
            job_id = conn.execute(insert(Job).values(**values).returning(Job.id)).scalar_one()
    except IntegrityError:
        if idempotency_key is None:
            raise
        earlier = _by_idempotency_key(conn, company_id, idempotency_key)
        if earlier is None:
            raise
        return earlier
    events(
        conn,
        [{"job_id": job_id, "to_state": JobState.QUEUED, "actor": actor, "message": "enqueued"}],
    )
    return Enqueued(job_id, JobState.QUEUED, True)


def _by_idempotency_key(conn: Connection, company_id: int, key: str) -> Enqueued | None:
    row = conn.execute(
        select(Job.id, Job.state).where(Job.company_id == company_id, Job.idempotency_key == key)
    ).first()
    return Enqueued(row.id, JobState(row.state), False) if row else None


def _ready(company_id: int, now: datetime) -> Any:
    """The condition for a job of ``company_id`` that may be handed out now."""
    dep = aliased(Job)
    return and_(
        Job.company_id == company_id,
        Job.state == JobState.QUEUED,
        or_(Job.not_before.is_(None), Job.not_before <= now),
        or_(
            Job.depends_on_id.is_(None),
            exists().where(dep.id == Job.depends_on_id, dep.state == JobState.DONE),
        ),
    )


def count_ready(conn: Connection, company_id: int, now: datetime | None = None) -> int:
    """How many jobs of the company could be handed out now."""
    return int(
        conn.execute(select(func.count()).select_from(Job).where(_ready(company_id, now or utcnow()))).scalar_one()
    )


def lease_next(
    conn: Connection, company_id: int, ticket: str, *, limit: int, now: datetime | None = None
) -> list[LeasedJob]:
    """Lease up to ``limit`` ready jobs of the company to the session ``ticket``.

    Highest priority first, then oldest. A job marked ``send_alone`` (it broke a batch
    before) travels by itself. On PostgreSQL rows locked by another transaction are
    skipped; everywhere the guarded UPDATE makes a double lease impossible.
    """
    now = now or utcnow()
    candidates = (
        select(Job.id, Job.send_alone).where(_ready(company_id, now)).order_by(Job.priority.desc(), Job.id).limit(limit)
    )
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=Job)
    ids: list[int] = []
    for row in conn.execute(candidates):
        if row.send_alone:
            if not ids:
                ids.append(row.id)
            break
        ids.append(row.id)
    if not ids:
        return []
    leased = list(
        conn.execute(
            update(Job)
            .where(Job.id.in_(ids), Job.state == JobState.QUEUED)
            .values(
                state=JobState.IN_FLIGHT,
                ticket=ticket,
                leased_at=now,
                attempts=Job.attempts + 1,
                updated_at=now,
            )
            .returning(*LEASED_COLUMNS)
        ).all()
    )
    order = {job_id: n for n, job_id in enumerate(ids)}
    leased.sort(key=lambda r: order[r.id])
    events(
        conn,
        (
            {"job_id": r.id, "from_state": JobState.QUEUED, "to_state": JobState.IN_FLIGHT,
             "ticket": ticket, "actor": "qbwc", "message": f"sent, attempt {r.attempts}"}
            for r in leased
        ),
    )  # fmt: skip
    return [LeasedJob(r.id, r.kind, r.payload, r.attempts, r.max_attempts, r.step, r.progress) for r in leased]


def record_requests(conn: Connection, requests: Sequence[tuple[int, str]]) -> None:
    """Store the qbXML request each leased job was sent as."""
    if requests:
        conn.execute(
            update(Job).where(Job.id == bindparam("jid")).values(request_xml=bindparam("xml")),
            [{"jid": jid, "xml": xml} for jid, xml in requests],
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What QuickBooks said about one in-flight job, ready to be recorded."""

    job_id: int
    to_state: JobState
    status_code: int | None = None
    status_severity: str | None = None
    status_message: str | None = None
    response_xml: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    not_before: datetime | None = None
    #: Whether the attempt counts towards ``max_attempts`` (not when a batch was refused whole).
    count_attempt: bool = True
    send_alone: bool | None = None
    message: str | None = None


def settle(conn: Connection, ticket: str, outcomes: Sequence[Outcome], *, actor: str = "qbwc") -> list[int]:
    """Move in-flight jobs of ``ticket`` to their outcome's state; return the ids settled.

    A job no longer in flight for this ticket (it was requeued after the session went
    quiet, or cancelled) is left alone and not returned.
    """
    now = utcnow()
    settled: list[int] = []
    log: list[dict[str, Any]] = []
    for o in outcomes:
        values: dict[str, Any] = {
            "state": o.to_state,
            "updated_at": now,
            "status_code": o.status_code,
            "status_severity": o.status_severity,
            "status_message": o.status_message,
            "error": o.error,
        }
        if o.response_xml is not None:
            values["response_xml"] = o.response_xml
        if o.to_state is JobState.DONE:
            values.update(result=o.result, finished_at=now, ticket=None, leased_at=None, error=None)
        elif o.to_state is JobState.QUEUED:
            values.update(ticket=None, leased_at=None, not_before=o.not_before)
        elif o.to_state is JobState.FAILED:
            values.update(finished_at=now, ticket=None, leased_at=None)
        if not o.count_attempt:
            values["attempts"] = Job.attempts - 1
        if o.send_alone is not None:
            values["send_alone"] = o.send_alone
        res = conn.execute(
            update(Job)
            .where(Job.id == o.job_id, Job.state == JobState.IN_FLIGHT, Job.ticket == ticket)
            .values(**values)
        )
        if res.rowcount != 1:
            continue
        settled.append(o.job_id)
        log.append(
            {"job_id": o.job_id, "from_state": JobState.IN_FLIGHT, "to_state": o.to_state,
             "ticket": ticket, "actor": actor, "message": o.message or o.error}
        )  # fmt: skip
    events(conn, log)
    failed = [o.job_id for o in outcomes if o.to_state is JobState.FAILED and o.job_id in settled]
    if failed:
        fail_dependents(conn, failed, actor=actor)
    return settled


def fail_dependents(conn: Connection, failed_ids: Sequence[int], *, actor: str) -> int:
    """Fail queued jobs that depend on a failed one (and their dependents in turn)."""
    total = 0
    frontier = list(failed_ids)
    while frontier:
        rows = conn.execute(
            update(Job)
            .where(Job.depends_on_id.in_(frontier), Job.state == JobState.QUEUED)
            .values(
                state=JobState.FAILED,
                finished_at=utcnow(),
                updated_at=utcnow(),
                error="a job it depends on failed; retry that one first",
            )
            .returning(Job.id, Job.depends_on_id)
        ).all()
        events(
            conn,
            (
                {"job_id": r.id, "from_state": JobState.QUEUED, "to_state": JobState.FAILED,
                 "actor": actor, "message": f"job {r.depends_on_id}, which it depends on, failed"}
                for r in rows
            ),
        )  # fmt: skip
        total += len(rows)
        frontier = [r.id for r in rows]
    return total


def requeue_stalled(
    conn: Connection,
    *,
    timeout: timedelta,
    company_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Abandon sessions silent for ``timeout`` and put their in-flight jobs back.

    Jobs go back to ``queued`` (or ``failed`` past their attempt limit). QuickBooks may
    have applied a request whose answer never came back; the event says so.
    """
    now = now or utcnow()
    stale = update(QbwcSession).where(QbwcSession.state == SessionState.OPEN, QbwcSession.last_seen_at < now - timeout)
    if company_id is not None:
        stale = stale.where(QbwcSession.company_id == company_id)
    tickets = [
        r.ticket
        for r in conn.execute(stale.values(state=SessionState.ABANDONED, ended_at=now).returning(QbwcSession.ticket))
    ]
    return release(conn, tickets, reason="the Web Connector session went quiet", now=now) if tickets else 0


def release(conn: Connection, tickets: Sequence[str], *, reason: str, now: datetime | None = None) -> int:
    """Return the in-flight jobs of the given sessions to the queue (or fail them)."""
    now = now or utcnow()
    rows = conn.execute(
        select(Job.id, Job.ticket, Job.attempts, Job.max_attempts).where(
            Job.state == JobState.IN_FLIGHT, Job.ticket.in_(tickets)
        )
    ).all()
    by_ticket: dict[str, list[Outcome]] = {}
    for r in rows:
        exhausted = r.attempts >= r.max_attempts
        by_ticket.setdefault(r.ticket, []).append(
            Outcome(
                r.id,
                JobState.FAILED if exhausted else JobState.QUEUED,
                error=f"{reason}; QuickBooks may or may not have applied the request"
                + (f" (gave up after {r.attempts} attempts)" if exhausted else ""),
            )
        )
    return sum(len(settle(conn, t, outs, actor="system")) for t, outs in by_ticket.items())


def _transition(
    conn: Connection,
    job_id: int,
    expected: Sequence[JobState],
    values: Mapping[str, Any],
    *,
    actor: str,
    message: str,
) -> JobState:
    """Compare-and-set one job from any of ``expected`` states; returns the state it left."""
    current = conn.execute(select(Job.state).where(Job.id == job_id)).scalar_one_or_none()
    if current is None:
        raise JobNotFound(job_id)
    if current not in expected:
        raise JobStateError(job_id, " or ".join(expected), current)
    res = conn.execute(update(Job).where(Job.id == job_id, Job.state == current).values(updated_at=utcnow(), **values))
    if res.rowcount != 1:
        raise JobStateError(job_id, " or ".join(expected))
    to_state = values.get("state", current)
    events(
        conn,
        [
            {
                "job_id": job_id,
                "from_state": current,
                "to_state": to_state,
                "actor": actor,
                "message": message,
            }
        ],
    )
    return JobState(current)


def cancel(conn: Connection, job_id: int, *, actor: str) -> None:
    """Withdraw a queued job."""
    _transition(
        conn, job_id, [JobState.QUEUED], {"state": JobState.CANCELLED, "finished_at": utcnow()},
        actor=actor, message="cancelled",
    )  # fmt: skip


def retry(conn: Connection, job_id: int, *, actor: str, priority: int | None = None) -> None:
    """Send a failed (or cancelled) job again, with a fresh set of attempts."""
    values: dict[str, Any] = {
        "state": JobState.QUEUED, "attempts": 0, "not_before": None, "finished_at": None,
        "send_alone": False, "step": 0, "progress": None,
    }  # fmt: skip
    if priority is not None:
        values["priority"] = priority
    _transition(conn, job_id, [JobState.FAILED, JobState.CANCELLED], values, actor=actor, message="retried")


def reprioritize(conn: Connection, job_id: int, priority: int, *, actor: str) -> None:
    """Change the priority of a queued job (and send it at once, ignoring back-off)."""
    _transition(
        conn, job_id, [JobState.QUEUED], {"priority": priority, "not_before": None},
        actor=actor, message=f"priority set to {priority}",
    )  # fmt: skip


def retry_all_failed(conn: Connection, company_id: int, *, actor: str) -> int:
    """Retry every failed job of a company; return how many."""
    ids = conn.execute(
        select(Job.id).where(Job.company_id == company_id, Job.state == JobState.FAILED).order_by(Job.id)
    ).scalars()
    count = 0
    for job_id in list(ids):
        try:
            retry(conn, job_id, actor=actor)
        except JobStateError:
            continue
        count += 1
    return count
