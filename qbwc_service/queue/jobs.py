"""The job queue: enqueue work, lease it to QBWC sessions, record what came back.

This is the only module that writes ``job.state``. Every transition is a guarded
compare-and-set UPDATE and appends a :class:`JobEvent`. The functions on the QBWC hot
path speak SQLAlchemy Core on a :class:`Connection`; callers holding an ORM ``Session``
pass ``session.connection()``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from qbwc_service.db import prepared, tables
from qbwc_service.db.prepared import Executor
from qbwc_service.db.types import JobState, SessionState, utcnow
from qbwc_service.errors import CompanyNotFound, JobNotFound, JobStateError, PayloadError
from qbwc_service.queue.kinds import get_kind


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


#: The ``progress`` key that marks a job whose last request may have been applied in
#: QuickBooks without its reply reaching us (see :mod:`qbwc_service.qbwc.lost_replies`).
LOST_REPLY = "verify"


def lost_reply_mark() -> dict[str, Any]:
    """The ``progress`` of a job requeued after its reply was lost: look it up before sending it again."""
    return {LOST_REPLY: True}


J, S, C = tables.job, tables.qbwc_session, tables.company

_EVENT_FIELDS = (
    "job_id", "at", "ticket", "message", "from_state", "to_state", "actor", "request_xml", "response_xml",
)  # fmt: skip


def events(conn: Executor, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append job events (``job_id``, ``from_state``, ``to_state``, ``ticket``, ``actor``, ``message``).

    The event of a job sent carries the step's request (``request_xml``), the event of its
    answer the response (``response_xml``): every step shows in the history.
    """
    now = utcnow()
    defaults = {
        "at": now, "ticket": None, "message": None, "from_state": None, "to_state": None, "actor": "system",
        "request_xml": None, "response_xml": None,
    }  # fmt: skip
    batch = [{f"p_{k}": v for k, v in {**defaults, **row}.items()} for row in rows]
    prepared.execute_many(conn, _event_insert(), batch)


@functools.cache
def _event_insert() -> Any:
    table = tables.job_event
    return insert(table).values({name: bindparam(f"p_{name}", type_=table.c[name].type) for name in _EVENT_FIELDS})


def company_id_by_name(conn: Connection, name: str) -> int:
    """The id of the company called ``name``."""
    found = conn.execute(select(C.c.id).where(C.c.name == name)).scalar_one_or_none()
    if found is None:
        raise CompanyNotFound(name)
    return int(found)


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
        dep_company = conn.execute(select(J.c.company_id).where(J.c.id == depends_on)).scalar()
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
            job_id = conn.execute(insert(J).values(**values).returning(J.c.id)).scalar_one()
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
        select(J.c.id, J.c.state).where(J.c.company_id == company_id, J.c.idempotency_key == key)
    ).first()
    return Enqueued(row.id, JobState(row.state), False) if row else None


# -- the hot path: statements built once, executed with bound parameters -----------------

_QUEUED, _IN_FLIGHT, _DONE = JobState.QUEUED, JobState.IN_FLIGHT, JobState.DONE


@functools.cache
def _ready_clause(of_session: bool = False) -> Any:
    """Jobs of ``:p_company`` that may be handed out at ``:p_now``.

    ``of_session``: jobs of the company of the session the statement joins instead.
    """
    dep = J.alias("dep")
    return and_(
        J.c.company_id == (S.c.company_id if of_session else bindparam("p_company")),
        J.c.state == _QUEUED,
        or_(J.c.not_before.is_(None), J.c.not_before <= bindparam("p_now", type_=J.c.not_before.type)),
        or_(J.c.depends_on_id.is_(None), exists().where(dep.c.id == J.c.depends_on_id, dep.c.state == _DONE)),
    )


@functools.cache
def _count_ready_stmt() -> Any:
    return select(func.count()).select_from(J).where(_ready_clause())


@functools.cache
def _has_work_stmt() -> Any:
    held = exists().where(J.c.state == _IN_FLIGHT, J.c.ticket == bindparam("p_ticket"))
    return select(or_(exists().where(_ready_clause()), held))


@functools.cache
def _candidates_stmt(dialect: str) -> Any:
    """Ready jobs of the company of the open session ``:p_ticket``, highest priority first, then oldest.

    Each row is led by the session's columns (no row when no job is ready or no such session is open).
    """
    columns = (J.c.id, J.c.send_alone, J.c.kind, J.c.payload, J.c.attempts, J.c.max_attempts, J.c.step, J.c.progress)
    stmt = (
        select(S.c.company_id, S.c.hcp_seen, S.c.qbxml_version, S.c.qbxml_country, *columns)
        .select_from(J.join(S, S.c.company_id == J.c.company_id))
        .where(S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.OPEN)
    )
    stmt = stmt.where(_ready_clause(of_session=True)).order_by(J.c.priority.desc(), J.c.id).limit(bindparam("p_limit"))
    return stmt.with_for_update(skip_locked=True, of=J) if dialect == "postgresql" else stmt


@functools.cache
def _claim_stmt(checking: bool = False) -> Any:
    """Lease one queued job to a ticket, storing the request it is sent as.

    ``checking``: the request is the query of a lost-reply check, sent as the job's next step.
    """
    now = bindparam("p_now", type_=J.c.leased_at.type)
    stmt = (
        update(J)
        .where(J.c.id == bindparam("p_id"), J.c.state == _QUEUED)
        .values(
            state=_IN_FLIGHT, ticket=bindparam("p_ticket"), leased_at=now, attempts=J.c.attempts + 1, updated_at=now,
            request_xml=func.coalesce(bindparam("p_xml", type_=J.c.request_xml.type), J.c.request_xml),
        )
    )  # fmt: skip
    if checking:
        stmt = stmt.values(step=J.c.step + 1, progress=bindparam("p_progress", type_=J.c.progress.type))
    return stmt


@functools.cache
def _fail_queued_stmt() -> Any:
    now = bindparam("p_now", type_=J.c.updated_at.type)
    return (
        update(J)
        .where(J.c.id == bindparam("p_id"), J.c.state == _QUEUED)
        .values(
            state=JobState.FAILED, error=bindparam("p_error", type_=J.c.error.type), updated_at=now, finished_at=now
        )
    )


@functools.cache
def _settle_stmt(with_progress: bool = False, advance: bool = False) -> Any:
    """One guarded UPDATE for every outcome: in flight for this ticket, to the outcome's state.

    ``with_progress``: the outcome also replaces the job's ``progress``; ``advance``: the job
    goes on to its next step.
    """
    now = bindparam("p_now", type_=J.c.updated_at.type)
    stmt = (
        update(J)
        .where(J.c.id == bindparam("p_id"), J.c.state == _IN_FLIGHT, J.c.ticket == bindparam("p_ticket"))
        .values(
            state=bindparam("p_state", type_=J.c.state.type),
            updated_at=now,
            ticket=None,
            leased_at=None,
            status_code=bindparam("p_code", type_=J.c.status_code.type),
            status_severity=bindparam("p_severity", type_=J.c.status_severity.type),
            status_message=bindparam("p_message", type_=J.c.status_message.type),
            error=bindparam("p_error", type_=J.c.error.type),
            response_xml=func.coalesce(bindparam("p_response", type_=J.c.response_xml.type), J.c.response_xml),
            result=bindparam("p_result", type_=J.c.result.type),
            finished_at=bindparam("p_finished", type_=J.c.finished_at.type),
            not_before=bindparam("p_not_before", type_=J.c.not_before.type),
            attempts=J.c.attempts - bindparam("p_uncount", type_=J.c.attempts.type),
            send_alone=func.coalesce(bindparam("p_send_alone", type_=J.c.send_alone.type), J.c.send_alone),
        )
    )
    if advance:
        stmt = stmt.values(step=J.c.step + 1)
    return stmt.values(progress=bindparam("p_progress", type_=J.c.progress.type)) if with_progress else stmt


def count_ready(conn: Executor, company_id: int, now: datetime | None = None) -> int:
    """How many jobs of the company could be handed out now."""
    (row,) = prepared.fetch(conn, _count_ready_stmt(), {"p_company": company_id, "p_now": now or utcnow()})
    return int(row[0])


def has_work(conn: Executor, company_id: int, ticket: str) -> bool:
    """Whether the session still has something to do: a job ready now, or one it holds in flight."""
    params = {"p_company": company_id, "p_now": utcnow(), "p_ticket": ticket}
    (row,) = prepared.fetch(conn, _has_work_stmt(), params)
    return bool(row[0])


def session_candidates(
    conn: Executor, ticket: str, *, limit: int, now: datetime | None = None
) -> tuple[Any, list[LeasedJob]]:
    """The next ready jobs of the company of the open session ``ticket``, read with the session.

    Highest priority first, then oldest. A job marked ``send_alone`` (it broke a batch
    before) comes by itself. On PostgreSQL the job rows are locked until the transaction
    ends, and rows locked by another transaction are skipped.

    Returns the session's ``company_id``, ``hcp_seen``, ``qbxml_version`` and
    ``qbxml_country`` with the jobs, or ``(None, [])`` when there is no ready job (or no
    such open session).
    """
    params = {"p_ticket": ticket, "p_now": now or utcnow(), "p_limit": limit}
    rows = prepared.fetch(conn, _candidates_stmt(conn.dialect.name), params)
    return (rows[0] if rows else None), _leased(rows)


def _leased(rows: Iterable[Any]) -> list[LeasedJob]:
    """Candidate rows as jobs, stopping at a job that must be sent alone."""
    found: list[LeasedJob] = []
    for r in rows:
        if r.send_alone and found:
            break
        found.append(LeasedJob(r.id, r.kind, r.payload, r.attempts + 1, r.max_attempts, r.step, r.progress))
        if r.send_alone:
            break
    return found


def claim(
    conn: Executor,
    ticket: str,
    leases: Sequence[tuple[LeasedJob, str | None]],
    *,
    checks: Mapping[int, dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> None:
    """Lease the given candidates to ``ticket``, each with the request it is sent as.

    ``checks`` maps the jobs sent as a lost-reply check (see :mod:`.verify`) to the
    ``progress`` they carry meanwhile; their ``step`` goes up by one.

    The guarded UPDATE runs as one batch; the candidates' row locks (PostgreSQL) or the
    transaction's write lock (SQLite ``BEGIN IMMEDIATE``) mean none can have moved.
    """
    if not leases:
        return
    now = now or utcnow()
    checks = checks or {}
    plain = [{"p_id": job.id, "p_ticket": ticket, "p_now": now, "p_xml": xml} for job, xml in leases
             if job.id not in checks]  # fmt: skip
    claimed = prepared.execute_many(conn, _claim_stmt(), plain)
    if checks:
        checked = [{"p_id": job.id, "p_ticket": ticket, "p_now": now, "p_xml": xml, "p_progress": checks[job.id]}
                   for job, xml in leases if job.id in checks]  # fmt: skip
        claimed += prepared.execute_many(conn, _claim_stmt(checking=True), checked)
    if claimed != len(leases):
        raise JobStateError(leases[0][0].id, "queued")
    events(
        conn,
        (
            {"job_id": job.id, "from_state": _QUEUED, "to_state": _IN_FLIGHT, "ticket": ticket, "actor": "qbwc",
             "message": f"sent, attempt {job.attempts}" if job.id not in checks else
             f"asked QuickBooks whether it already has this (the reply to the last attempt was lost), "
             f"attempt {job.attempts}", "request_xml": xml}
            for job, xml in leases
        ),
    )  # fmt: skip


def fail_queued(conn: Executor, job_id: int, error: str, *, ticket: str | None, actor: str = "qbwc") -> bool:
    """Fail a queued job that cannot be sent (its request cannot be built), and its dependents."""
    if prepared.execute(conn, _fail_queued_stmt(), {"p_id": job_id, "p_error": error, "p_now": utcnow()}) != 1:
        return False
    events(conn, [{"job_id": job_id, "from_state": _QUEUED, "to_state": JobState.FAILED, "ticket": ticket,
                   "actor": actor, "message": error}])  # fmt: skip
    fail_dependents(conn, [job_id], actor=actor)
    return True


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
    #: Replace the job's ``progress`` with :attr:`progress` (False: leave it as it is).
    set_progress: bool = False
    progress: dict[str, Any] | None = None
    #: The job goes on to its next step (its ``step`` goes up by one).
    advance: bool = False
    #: Records of a page of an iterated query, for its kind's sink.
    records: tuple[dict[str, Any], ...] = ()
    #: How much of the job is done (0 to 1) when it goes on to another step: the percentage moves.
    share: float | None = None


def settle(conn: Executor, ticket: str, outcomes: Sequence[Outcome], *, actor: str = "qbwc") -> list[int]:
    """Move in-flight jobs of ``ticket`` to their outcome's state; return the ids settled.

    A job no longer in flight for this ticket (it was requeued after the session went
    quiet, or cancelled) is left alone and not returned.
    """
    now = utcnow()
    settled: list[int] = []
    log: list[dict[str, Any]] = []
    for o in outcomes:
        done = o.to_state is JobState.DONE
        params: dict[str, Any] = {
            "p_id": o.job_id, "p_ticket": ticket, "p_now": now, "p_state": o.to_state,
            "p_code": o.status_code, "p_severity": o.status_severity, "p_message": o.status_message,
            "p_error": None if done else o.error, "p_response": o.response_xml,
            "p_result": o.result if done else None,
            "p_finished": None if o.to_state is JobState.QUEUED else now,
            "p_not_before": o.not_before if o.to_state is JobState.QUEUED else None,
            "p_uncount": 0 if o.count_attempt else 1, "p_send_alone": o.send_alone,
        }  # fmt: skip
        if o.set_progress:
            params["p_progress"] = o.progress
        if prepared.execute(conn, _settle_stmt(o.set_progress, o.advance), params) != 1:
            continue
        settled.append(o.job_id)
        log.append(
            {"job_id": o.job_id, "from_state": _IN_FLIGHT, "to_state": o.to_state,
             "ticket": ticket, "actor": actor, "message": o.message or o.error, "response_xml": o.response_xml}
        )  # fmt: skip
    events(conn, log)
    failed = [o.job_id for o in outcomes if o.to_state is JobState.FAILED and o.job_id in settled]
    if failed:
        fail_dependents(conn, failed, actor=actor)
    return settled


def fail_dependents(conn: Executor, failed_ids: Sequence[int], *, actor: str) -> int:
    """Fail queued jobs that depend on a failed one (and their dependents in turn)."""
    total = 0
    frontier = list(failed_ids)
    while frontier:
        now = utcnow()
        rows = [
            r
            for job_id in frontier
            for r in prepared.fetch(conn, _fail_dependents_stmt(), {"p_id": job_id, "p_now": now})
        ]
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


@functools.cache
def _fail_dependents_stmt() -> Any:
    now = bindparam("p_now", type_=J.c.updated_at.type)
    return (
        update(J)
        .where(J.c.depends_on_id == bindparam("p_id"), J.c.state == _QUEUED)
        .values(
            state=JobState.FAILED, finished_at=now, updated_at=now,
            error="a job it depends on failed; retry that one first",
        )
        .returning(J.c.id, J.c.depends_on_id)
    )  # fmt: skip


def release(conn: Connection, tickets: Sequence[str], *, reason: str, now: datetime | None = None) -> int:
    """Return the in-flight jobs of the given sessions to the queue (or fail them).

    QuickBooks may have applied their requests, so the requeued ones are marked
    ``progress = {"verify": true}``: an Add is looked up before it is sent again. A
    multi-step job keeps the rest of its progress (the step it was at, the pages it has).
    """
    now = now or utcnow()
    rows = conn.execute(
        select(J.c.id, J.c.ticket, J.c.attempts, J.c.max_attempts, J.c.progress).where(
            J.c.state == JobState.IN_FLIGHT, J.c.ticket.in_(tickets)
        )
    ).all()
    by_ticket: dict[str, list[Outcome]] = {}
    for r in rows:
        # A lost-reply check in flight starts over; any other step is kept.
        kept = {} if (r.progress or {}).get("checking") else (r.progress or {})
        exhausted = r.attempts >= r.max_attempts
        by_ticket.setdefault(r.ticket, []).append(
            Outcome(
                r.id,
                JobState.FAILED if exhausted else JobState.QUEUED,
                error=f"{reason}; QuickBooks may or may not have applied the request"
                + (f" (gave up after {r.attempts} attempts)" if exhausted else ""),
                set_progress=not exhausted,
                progress=None if exhausted else {**kept, **lost_reply_mark()},
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
    current = conn.execute(select(J.c.state).where(J.c.id == job_id)).scalar_one_or_none()
    if current is None:
        raise JobNotFound(job_id)
    if current not in expected:
        raise JobStateError(job_id, " or ".join(expected), current)
    res = conn.execute(update(J).where(J.c.id == job_id, J.c.state == current).values(updated_at=utcnow(), **values))
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
        select(J.c.id).where(J.c.company_id == company_id, J.c.state == JobState.FAILED).order_by(J.c.id)
    ).scalars()
    count = 0
    for job_id in list(ids):
        try:
            retry(conn, job_id, actor=actor)
        except JobStateError:
            continue
        count += 1
    return count
